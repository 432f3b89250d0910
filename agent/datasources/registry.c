/* The table of metadata platforms, in the order DMI identification tries them. */
#include "datasource.h"

const Datasource *const datasources[] = {
        NULL,
};
