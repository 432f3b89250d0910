#include "paths.h"

#include "util.h"

char *root_path(const char *root, const char *path) {
        if (isempty(root) || streq(root, "/"))
                return strdup(path);
        size_t rl = strlen(root);
        while (rl > 1 && root[rl - 1] == '/')
                rl--;
        return strdup_printf("%.*s%s", (int) rl, root, path);
}
