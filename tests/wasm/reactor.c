/*
 * A reactor module (it exports _initialize, not _start) for the runtime's tests: its
 * constructor runs from _initialize, and gk_register answers only after it did.
 * Handlers: ping ({"pong":true}); anything else {"error": "unknown function"}.
 */
#include "gk.h"

static int initialized;

__attribute__((constructor)) static void set_up(void) { initialized = 1; }

static const char MANIFEST[] =
    "{\"name\":\"reactor-test\",\"version\":\"0.2.0\",\"description\":\"set up by _initialize\"}";

GK_EXPORT("gk_register") uint64_t gk_register(void) {
    return initialized ? gk_pack(MANIFEST, sizeof MANIFEST - 1) : 0;
}

GK_EXPORT("gk_call")
uint64_t gk_call(uint32_t fn_ptr, uint32_t fn_len, uint32_t args_ptr, uint32_t args_len) {
    (void)args_ptr;
    (void)args_len;
    const char *fn = (const char *)(uintptr_t)fn_ptr;
    static const char pong[] = "{\"pong\":true}";
    static const char unknown[] = "{\"error\":\"unknown function\"}";
    char *out;
    if (fn_len == 4 && memcmp(fn, "ping", 4) == 0) {
        out = malloc(sizeof pong);
        if (!out) return 0;
        memcpy(out, pong, sizeof pong);
        return gk_pack(out, sizeof pong - 1);
    }
    out = malloc(sizeof unknown);
    if (!out) return 0;
    memcpy(out, unknown, sizeof unknown);
    return gk_pack(out, sizeof unknown - 1);
}
