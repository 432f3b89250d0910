/* systemd's library, loaded on first use. libsystemd.so.0 (with libgcrypt, liblz4, libzstd,
 * liblzma, libcap behind it: ~1 MiB of a 3 MiB `kubeboot version`) is not a NEEDED
 * library: `version`, `config`, `token` and most failure paths never talk to systemd, and
 * a host without it (a control plane running only `kubeboot token`) still runs them.
 * The headers stay, for types and constants; every function goes through the table. */
#pragma once

/* sd_journal_sendv is otherwise a macro adding CODE_FILE= of the caller, which would make
 * the table's member of that name unusable (and the location is always log.c anyway) */
#define SD_JOURNAL_SUPPRESS_LOCATION 1
#include <systemd/sd-bus.h>
#include <systemd/sd-daemon.h>
#include <systemd/sd-journal.h>

#define SDLIB_SONAME "libsystemd.so.0"

/* Every libsystemd function kubeboot calls. Variadic ones cannot be forwarded through a
 * pointer: sd_bus_message_appendv and sd_journal_sendv stand in for theirs, and replies
 * are read with sd_bus_message_read_basic (sd_bus_message_readv would need systemd 240;
 * these all exist since 237, what the binary needed before). */
#define SDLIB_FUNCTIONS(X)                   \
        X(sd_notify)                         \
        X(sd_journal_sendv)                  \
        X(sd_bus_new)                        \
        X(sd_bus_set_address)                \
        X(sd_bus_start)                      \
        X(sd_bus_open_system)                \
        X(sd_bus_flush_close_unref)          \
        X(sd_bus_process)                    \
        X(sd_bus_wait)                       \
        X(sd_bus_call)                       \
        X(sd_bus_match_signal)               \
        X(sd_bus_slot_unref)                 \
        X(sd_bus_get_property_string)        \
        X(sd_bus_get_property_trivial)       \
        X(sd_bus_message_new_method_call)    \
        X(sd_bus_message_appendv)            \
        X(sd_bus_message_read_basic)         \
        X(sd_bus_message_unref)              \
        X(sd_bus_error_free)

/* Members are named as the functions, typed from the headers: `sd->sd_bus_call(...)`. */
typedef struct SdLib {
#define SDLIB_MEMBER(f) __typeof__(f) *f;
        SDLIB_FUNCTIONS(SDLIB_MEMBER)
#undef SDLIB_MEMBER
} SdLib;

/* libsystemd's functions, loaded at the first call (kept until exit); NULL when it cannot
 * be loaded, and then at every later call too. Logs nothing: callers know what was lost. */
const SdLib *sdlib(void);
/* Why sdlib() returned NULL, naming the library and dlerror()'s text; "" before that. */
const char *sdlib_error(void);
