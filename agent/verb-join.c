/* `kubeboot join`: the first-boot agent. */
#include <sys/stat.h>

#include "log.h"
#include "paths.h"
#include "phases.h"
#include "verbs.h"

int verb_join(Kb *kb) {
        _cleanup_free_ char *stamp = kb_path(kb, PATH_JOINED_STAMP);
        struct stat st;

        if (!stamp)
                return log_error_errno(-ENOMEM, "Out of memory");
        /* a joined node is left alone: kubeboot's work there is done */
        if (stat(stamp, &st) == 0) {
                log_info("this node has already joined (%s exists); nothing to do", stamp);
                return 0;
        }
        int r = phases_run(kb, kb->opt->skip_phases);
        if (r < 0)
                return r;
        log_info("join done");
        return 0;
}
