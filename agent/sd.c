#include "sd.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdint.h>

#include "util.h"

/* The dependency, declared as systemd declares its own dlopen()ed libraries
 * (https://systemd.io/ELF_DLOPEN_METADATA/): packaging tools and `readelf --notes` see
 * what NEEDED no longer says. */
#define DLOPEN_NOTE_OWNER "FDO"
#define DLOPEN_NOTE_TYPE UINT32_C(0x407c0c0a)
#define DLOPEN_NOTE_JSON                                                                     \
        "[{\"feature\":\"systemd\",\"description\":\"journal, sd_notify and D-Bus (starting " \
        "kubelet)\",\"priority\":\"required\",\"soname\":[\"" SDLIB_SONAME "\"]}]"

__attribute__((used, section(".note.dlopen"))) _Alignas(sizeof(uint32_t)) static const struct {
        struct {
                uint32_t n_namesz, n_descsz, n_type;
        } nhdr;
        char name[sizeof(DLOPEN_NOTE_OWNER)];
        _Alignas(sizeof(uint32_t)) char json[sizeof(DLOPEN_NOTE_JSON)];
} dlopen_note = {
        .nhdr = { sizeof(DLOPEN_NOTE_OWNER), sizeof(DLOPEN_NOTE_JSON), DLOPEN_NOTE_TYPE },
        .name = DLOPEN_NOTE_OWNER,
        .json = DLOPEN_NOTE_JSON,
};

static pthread_once_t once = PTHREAD_ONCE_INIT;
static SdLib lib;
static bool loaded;
static char error[512];

static void load(void) {
        /* RTLD_LOCAL: its symbols are for this table only, never for later lookups */
        void *h = dlopen(SDLIB_SONAME, RTLD_NOW | RTLD_LOCAL);
        if (!h) {
                snprintf(error, sizeof error, "cannot load %s: %s", SDLIB_SONAME, dlerror());
                return;
        }
        /* every symbol or none: an older libsystemd lacking one is the same as no libsystemd */
#define SDLIB_RESOLVE(f)                                                                              \
        if (!(*(void **) &lib.f = dlsym(h, #f))) {                                                   \
                snprintf(error, sizeof error, "cannot use %s: %s", SDLIB_SONAME, dlerror() ?: #f); \
                dlclose(h);                                                                         \
                return;                                                                             \
        }
        SDLIB_FUNCTIONS(SDLIB_RESOLVE)
#undef SDLIB_RESOLVE
        /* the handle stays open for the process's lifetime: buses and their callbacks live in it */
        loaded = true;
}

const SdLib *sdlib(void) {
        (void) pthread_once(&once, load);
        return loaded ? &lib : NULL;
}

const char *sdlib_error(void) {
        return error;
}
