/* The table of metadata platforms, in the order DMI identification tries them (their
 * DMI rules do not overlap; the order only matters for clones that copy another's DMI). */
#include "datasource.h"
#include "ds-util.h"

const Datasource *const datasources[] = {
        &ds_ec2,
        &ds_gce,
        &ds_azure,
        &ds_openstack,
        &ds_digitalocean,
        &ds_hetzner,
        NULL,
};
