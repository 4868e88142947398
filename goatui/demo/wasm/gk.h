/*
 * gk.h: GoatFlow's WASM plugin ABI for C (clang --target=wasm32-wasi).
 *
 * A plugin exports gk_register, gk_call, gk_malloc and gk_free (this header defines
 * the last two: include it in exactly one .c file) and imports gk.host_call and gk.log.
 * Pointers and lengths are 32-bit; a packed result is (ptr << 32) | len.
 *
 * Also here, small helpers a plugin needs: a growable buffer for answers, JSON string
 * escaping, a reader for the flat JSON objects the host answers with, and base64
 * (GoatFlow encodes []byte fields, such as cache values, as base64).
 */
#ifndef GK_H
#define GK_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GK_EXPORT(name) __attribute__((export_name(name)))
#define GK_IMPORT(name) __attribute__((import_module("gk"), import_name(name)))

GK_IMPORT("host_call")
uint64_t gk_host_call_raw(uint32_t fn_ptr, uint32_t fn_len, uint32_t args_ptr, uint32_t args_len);
GK_IMPORT("log") void gk_log_raw(uint32_t level, uint32_t msg_ptr, uint32_t msg_len);

enum { GK_DEBUG = 0, GK_INFO = 1, GK_WARN = 2, GK_ERROR = 3 };

static inline uint64_t gk_pack(const void *ptr, size_t len) {
    return ((uint64_t)(uintptr_t)ptr << 32) | (uint32_t)len;
}
static inline char *gk_packed_ptr(uint64_t packed) { return (char *)(uintptr_t)(packed >> 32); }
static inline uint32_t gk_packed_len(uint64_t packed) { return (uint32_t)packed; }

/* The host writes names, args and host-call answers here, and frees them after. */
GK_EXPORT("gk_malloc") uint32_t gk_malloc(uint32_t size) {
    return (uint32_t)(uintptr_t)malloc(size ? size : 1);
}
GK_EXPORT("gk_free") void gk_free(uint32_t ptr) { free((void *)(uintptr_t)ptr); }

/* -- a growable buffer ---------------------------------------------------------- */

typedef struct {
    char *data;
    size_t len, cap;
    int failed; /* an allocation failed: the content is cut */
} gk_buf;

static inline void gk_buf_put(gk_buf *b, const char *s, size_t n) {
    if (b->failed) return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 256;
        while (cap < b->len + n + 1) cap *= 2;
        char *grown = realloc(b->data, cap);
        if (!grown) { b->failed = 1; return; }
        b->data = grown;
        b->cap = cap;
    }
    memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = 0;
}

static inline void gk_buf_puts(gk_buf *b, const char *s) { gk_buf_put(b, s, strlen(s)); }

static inline void gk_buf_printf(gk_buf *b, const char *fmt, ...) {
    char small[256];
    va_list args;
    va_start(args, fmt);
    int n = vsnprintf(small, sizeof small, fmt, args);
    va_end(args);
    if (n < 0) return;
    if ((size_t)n < sizeof small) { gk_buf_put(b, small, (size_t)n); return; }
    char *big = malloc((size_t)n + 1);
    if (!big) { b->failed = 1; return; }
    va_start(args, fmt);
    vsnprintf(big, (size_t)n + 1, fmt, args);
    va_end(args);
    gk_buf_put(b, big, (size_t)n);
    free(big);
}

/* A JSON string literal: quoted, with ", \ and control characters escaped. */
static inline void gk_buf_json(gk_buf *b, const char *s, size_t n) {
    gk_buf_put(b, "\"", 1);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\') { gk_buf_put(b, "\\", 1); gk_buf_put(b, (char *)&c, 1); }
        else if (c == '\n') gk_buf_put(b, "\\n", 2);
        else if (c < 0x20) gk_buf_printf(b, "\\u%04x", c);
        else gk_buf_put(b, (char *)&c, 1);
    }
    gk_buf_put(b, "\"", 1);
}
static inline void gk_buf_json_str(gk_buf *b, const char *s) { gk_buf_json(b, s, strlen(s)); }

/* Text for HTML: &, <, > and quotes as entities. */
static inline void gk_buf_html(gk_buf *b, const char *s) {
    for (; *s; s++) {
        if (*s == '&') gk_buf_puts(b, "&amp;");
        else if (*s == '<') gk_buf_puts(b, "&lt;");
        else if (*s == '>') gk_buf_puts(b, "&gt;");
        else if (*s == '"') gk_buf_puts(b, "&quot;");
        else gk_buf_put(b, s, 1);
    }
}

/* Hand the buffer to the host as gk_call's result (the host frees it with gk_free). */
static inline uint64_t gk_buf_result(gk_buf *b) {
    if (b->failed || !b->data) {
        free(b->data);
        static const char oom[] = "{\"error\":\"out of memory\"}";
        char *copy = malloc(sizeof oom);
        if (!copy) return 0;
        memcpy(copy, oom, sizeof oom);
        return gk_pack(copy, sizeof oom - 1);
    }
    return gk_pack(b->data, b->len);
}

/* -- logging and host calls -------------------------------------------------------- */

static inline void gk_log(int level, const char *fmt, ...) {
    char line[512];
    va_list args;
    va_start(args, fmt);
    int n = vsnprintf(line, sizeof line, fmt, args);
    va_end(args);
    if (n < 0) return;
    if ((size_t)n >= sizeof line) n = sizeof line - 1;
    gk_log_raw((uint32_t)level, (uint32_t)(uintptr_t)line, (uint32_t)n);
}

/* A host call's JSON answer (NUL-terminated; free it), or NULL when the call failed:
 * the host has then logged why. */
static inline char *gk_host_call(const char *fn, const char *args, uint32_t *len) {
    uint64_t packed = gk_host_call_raw((uint32_t)(uintptr_t)fn, (uint32_t)strlen(fn),
                                       (uint32_t)(uintptr_t)args, (uint32_t)strlen(args));
    if (packed == 0) return NULL;
    char *answer = gk_packed_ptr(packed);
    uint32_t n = gk_packed_len(packed);
    char *text = malloc((size_t)n + 1);
    if (text) { memcpy(text, answer, n); text[n] = 0; }
    free(answer);
    if (len) *len = n;
    return text;
}

/* -- reading the host's flat JSON answers ------------------------------------------ */

/* Where the value of "key" starts in a JSON object (top level of flat objects), or NULL. */
static inline const char *gk_json_find(const char *json, size_t len, const char *key) {
    size_t klen = strlen(key);
    for (size_t i = 0; i + klen + 2 < len; i++) {
        if (json[i] != '"' || strncmp(json + i + 1, key, klen) != 0 || json[i + 1 + klen] != '"')
            continue;
        size_t j = i + klen + 2;
        while (j < len && (json[j] == ' ' || json[j] == '\n' || json[j] == '\t')) j++;
        if (j >= len || json[j] != ':') continue;
        j++;
        while (j < len && (json[j] == ' ' || json[j] == '\n' || json[j] == '\t')) j++;
        return j < len ? json + j : NULL;
    }
    return NULL;
}

/* The string value of "key" into out (unescaped, NUL-terminated). 1 if found. */
static inline int gk_json_string(const char *json, size_t len, const char *key, char *out,
                                 size_t cap) {
    const char *p = gk_json_find(json, len, key);
    const char *end = json + len;
    if (!p || *p != '"' || cap == 0) return 0;
    size_t n = 0;
    for (p++; p < end && *p != '"'; p++) {
        char c = *p;
        if (c == '\\' && p + 1 < end) {
            c = *++p;
            if (c == 'n') c = '\n';
            else if (c == 't') c = '\t';
            else if (c == 'r') c = '\r';
            else if (c == 'b') c = '\b';
            else if (c == 'f') c = '\f';
            else if (c == 'u' && end - p > 4) {
                /* \uXXXX as UTF-8 (surrogate pairs are not joined: each becomes U+FFFD). */
                char hex[5] = {p[1], p[2], p[3], p[4], 0};
                unsigned long code = strtoul(hex, NULL, 16);
                p += 4;
                if (code >= 0xD800 && code <= 0xDFFF) code = 0xFFFD;
                unsigned char bytes[3];
                size_t count = 0;
                if (code < 0x80) bytes[count++] = (unsigned char)code;
                else if (code < 0x800) {
                    bytes[count++] = (unsigned char)(0xC0 | (code >> 6));
                    bytes[count++] = (unsigned char)(0x80 | (code & 0x3F));
                } else {
                    bytes[count++] = (unsigned char)(0xE0 | (code >> 12));
                    bytes[count++] = (unsigned char)(0x80 | ((code >> 6) & 0x3F));
                    bytes[count++] = (unsigned char)(0x80 | (code & 0x3F));
                }
                for (size_t i = 0; i < count; i++)
                    if (n + 1 < cap) out[n++] = (char)bytes[i];
                continue;
            }
        }
        if (n + 1 < cap) out[n++] = c;
    }
    out[n] = 0;
    return 1;
}

/* The integer value of "key". 1 if found. */
static inline int gk_json_long(const char *json, size_t len, const char *key, long *out) {
    const char *p = gk_json_find(json, len, key);
    if (!p || !(*p == '-' || (*p >= '0' && *p <= '9'))) return 0;
    *out = strtol(p, NULL, 10);
    return 1;
}

/* -- base64 (standard alphabet, padded, as Go's encoding/json writes []byte) ---------- */

#define GK_B64_ALPHABET "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"

static inline void gk_buf_base64(gk_buf *b, const unsigned char *s, size_t n) {
    const char *alphabet = GK_B64_ALPHABET;
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)s[i] << 16;
        if (i + 1 < n) v |= (uint32_t)s[i + 1] << 8;
        if (i + 2 < n) v |= s[i + 2];
        char quad[4] = {alphabet[(v >> 18) & 63], alphabet[(v >> 12) & 63],
                        i + 1 < n ? alphabet[(v >> 6) & 63] : '=',
                        i + 2 < n ? alphabet[v & 63] : '='};
        gk_buf_put(b, quad, 4);
    }
}

/* Decode base64 into out (NUL-terminated); returns the length, or -1 if it is not base64. */
static inline long gk_base64_decode(const char *s, char *out, size_t cap) {
    const char *alphabet = GK_B64_ALPHABET;
    size_t n = 0;
    uint32_t v = 0;
    int bits = 0;
    for (; *s && *s != '='; s++) {
        const char *at = strchr(alphabet, *s);
        if (!at) return -1;
        v = (v << 6) | (uint32_t)(at - alphabet);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (n + 1 >= cap) return -1;
            out[n++] = (char)((v >> bits) & 0xFF);
        }
    }
    out[n] = 0;
    return (long)n;
}

#endif
