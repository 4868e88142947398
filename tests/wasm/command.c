/*
 * A command module (it exports _start, as TinyGo's `-target wasi` builds do) for the
 * runtime's tests. Its manifest is written by main, so gk_register answers only after
 * _start ran; main ends with exit(0), the proc_exit(0) TinyGo's runtime makes.
 *
 * Handlers: echo (answers its args), count (calls since the instance started),
 * log {"level": n, "message": "..."}, print (a line on stdout and one on stderr),
 * host:<fn> (makes host call <fn> with the call's args, answers the host's answer or
 * {"host_call":"failed"}), exit (proc_exit(3) mid-call), empty (answers nothing),
 * outside (answers a pointer past its memory), big {"bytes": n} (answers n bytes),
 * flood {"lines": n, "bytes": m} (logs n info lines of m bytes: "line 1 xxx...").
 */
#include "gk.h"

static char manifest[256];
static size_t manifest_len;
static long calls;

int main(void) {
    int n = snprintf(manifest, sizeof manifest,
                     "{\"name\":\"command-test\",\"version\":\"1.0.0\","
                     "\"description\":\"set up by _start\","
                     "\"i18n\":{\"translations\":{\"en\":{\"hi\":\"Hi %%s, %%d new\"},"
                     "\"de\":{\"hi\":\"Hallo %%s, %%d neu\"}}}}");
    manifest_len = n > 0 ? (size_t)n : 0;
    printf("command-test started\n");
    fflush(stdout);
    exit(0);
}

GK_EXPORT("gk_register") uint64_t gk_register(void) {
    return manifest_len ? gk_pack(manifest, manifest_len) : 0;
}

static uint64_t copy_result(const char *data, size_t len) {
    gk_buf out = {0};
    gk_buf_put(&out, data, len);
    return gk_buf_result(&out);
}

GK_EXPORT("gk_call")
uint64_t gk_call(uint32_t fn_ptr, uint32_t fn_len, uint32_t args_ptr, uint32_t args_len) {
    const char *fn = (const char *)(uintptr_t)fn_ptr;
    const char *args = (const char *)(uintptr_t)args_ptr;
    calls++;
#define IS(name) (fn_len == sizeof name - 1 && memcmp(fn, name, fn_len) == 0)
    if (IS("echo")) return args_len ? copy_result(args, args_len) : copy_result("{}", 2);
    if (IS("count")) {
        gk_buf out = {0};
        gk_buf_printf(&out, "{\"calls\":%ld}", calls);
        return gk_buf_result(&out);
    }
    if (IS("log")) {
        long level = 1;
        char message[1024] = "";
        gk_json_long(args, args_len, "level", &level);
        gk_json_string(args, args_len, "message", message, sizeof message);
        gk_log_raw((uint32_t)level, (uint32_t)(uintptr_t)message, (uint32_t)strlen(message));
        return copy_result("{}", 2);
    }
    if (IS("flood")) {
        long lines = 0, bytes = 0;
        gk_json_long(args, args_len, "lines", &lines);
        gk_json_long(args, args_len, "bytes", &bytes);
        size_t cap = bytes > 32 ? (size_t)bytes : 32;
        char *line = malloc(cap + 1);
        if (!line) return copy_result("{\"error\":\"out of memory\"}", 25);
        memset(line, 'x', cap);
        for (long i = 1; i <= lines; i++) {
            int n = snprintf(line, 24, "line %ld ", i);
            line[n] = 'x';
            size_t len = bytes > n ? (size_t)bytes : (size_t)n;
            gk_log_raw(GK_INFO, (uint32_t)(uintptr_t)line, (uint32_t)len);
        }
        free(line);
        return copy_result("{}", 2);
    }
    if (IS("print")) {
        printf("to stdout from a call\n");
        fflush(stdout);
        fprintf(stderr, "to stderr from a call\n");
        return copy_result("{}", 2);
    }
    if (fn_len > 5 && memcmp(fn, "host:", 5) == 0) {
        char name[64];
        size_t n = fn_len - 5 < sizeof name - 1 ? fn_len - 5 : sizeof name - 1;
        memcpy(name, fn + 5, n);
        name[n] = 0;
        uint64_t answer =
            gk_host_call_raw((uint32_t)(uintptr_t)name, (uint32_t)n, args_ptr, args_len);
        if (answer == 0) return copy_result("{\"host_call\":\"failed\"}", 22);
        return answer; /* the host's own allocation, handed back: it frees it */
    }
    if (IS("exit")) exit(3);
    if (IS("empty")) return 0;
    if (IS("outside")) return gk_pack((void *)(uintptr_t)0x7ff00000, 64);
    if (IS("big")) {
        long bytes = 0;
        gk_json_long(args, args_len, "bytes", &bytes);
        char *data = malloc(bytes > 0 ? (size_t)bytes : 1);
        if (!data) return copy_result("{\"error\":\"out of memory\"}", 25);
        memset(data, 'x', (size_t)bytes);
        return gk_pack(data, (size_t)bytes);
    }
#undef IS
    return copy_result("{\"error\":\"unknown function\"}", 28);
}
