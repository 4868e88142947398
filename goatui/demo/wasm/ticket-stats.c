/*
 * ticket-stats: goatui's demo WebAssembly plugin, built the way GoatFlow's own are
 * (a WASI preview 1 command module) but from C: `make wasm-demo` rebuilds
 * ticket-stats.wasm beside this file.
 *
 * Handlers:
 *   hello            {"name": "Ada"} -> a greeting from the plugin's own translations
 *   summary          tickets by status, from the host's database (db_query), or sample
 *                    figures when goatui has no --db
 *   overview_widget  the dashboard widget: {"html": ...}, cached for 30 s (cache_get/set),
 *                    titled from config_get("team")
 *   recount          the job: counts again, logs what it found, and mails the team when
 *                    there are too many open tickets (send_email: goatui only logs it)
 *   assets           asks another plugin (plugin_call inventory.list_assets)
 * Anything else answers {"error": "unknown function: <name>"}, as GoatFlow's plugins do.
 */
#include "gk.h"

static const char MANIFEST[] =
    "{\"name\":\"ticket-stats\",\"version\":\"1.0.0\","
    "\"description\":\"Ticket statistics (a WebAssembly plugin; C source beside it)\","
    "\"author\":\"goatui demo\",\"license\":\"Apache-2.0\","
    "\"routes\":["
    "{\"method\":\"GET\",\"path\":\"/api/plugins/ticket-stats/summary\",\"handler\":\"summary\","
    "\"middleware\":[\"auth\"],\"description\":\"Tickets by status\"},"
    "{\"method\":\"GET\",\"path\":\"/api/plugins/ticket-stats/hello\",\"handler\":\"hello\","
    "\"description\":\"A translated greeting\"},"
    "{\"method\":\"GET\",\"path\":\"/api/plugins/ticket-stats/assets\",\"handler\":\"assets\","
    "\"middleware\":[\"auth\"],\"description\":\"Assets, asked of the inventory plugin\"}],"
    "\"widgets\":[{\"id\":\"ticket-overview\",\"title\":\"Tickets\","
    "\"description\":\"Open tickets by status\",\"handler\":\"overview_widget\","
    "\"location\":\"dashboard\",\"size\":\"small\",\"order\":1,\"refreshable\":true,"
    "\"refresh_sec\":30}],"
    "\"jobs\":[{\"id\":\"recount\",\"handler\":\"recount\",\"schedule\":\"*/10 * * * *\","
    "\"description\":\"Counts open tickets and warns the team\",\"enabled\":true,"
    "\"timeout\":\"30s\"}],"
    "\"i18n\":{\"namespace\":\"ticket-stats\",\"languages\":[\"en\",\"de\"],"
    "\"translations\":{"
    "\"en\":{\"greeting\":\"Hello, %s!\",\"overview.title\":\"Open tickets\"},"
    "\"de\":{\"greeting\":\"Hallo, %s!\",\"overview.title\":\"Offene Tickets\"}}},"
    "\"permissions\":[\"db:read\",\"cache\",\"config\",\"email\"]}";

GK_EXPORT("gk_register") uint64_t gk_register(void) {
    return gk_pack(MANIFEST, sizeof MANIFEST - 1);
}

/* -- what the handlers share ----------------------------------------------------------- */

#define MAX_STATUSES 8

typedef struct {
    char status[MAX_STATUSES][32];
    long count[MAX_STATUSES];
    int n;
    long open; /* every status but "closed" */
    int from_db;
} counts;

static void sample_counts(counts *c) {
    static const char *names[] = {"new", "open", "pending", "closed"};
    static const long figures[] = {4, 12, 3, 57};
    c->n = 4;
    for (int i = 0; i < 4; i++) {
        strcpy(c->status[i], names[i]);
        c->count[i] = figures[i];
    }
    c->from_db = 0;
}

/* Tickets by status: the database when goatui has one, else sample figures. */
static void count_tickets(counts *c) {
    memset(c, 0, sizeof *c);
    uint32_t len = 0;
    char *rows = gk_host_call(
        "db_query",
        "{\"query\":\"SELECT status, COUNT(*) AS n FROM tickets GROUP BY status ORDER BY status\","
        "\"args\":[]}",
        &len);
    if (!rows) {
        gk_log(GK_WARN, "no ticket database; showing sample figures");
        sample_counts(c);
    } else {
        /* [{"status":"open","n":12}, ...]: one flat object after another. */
        const char *p = rows, *end = rows + len;
        while (c->n < MAX_STATUSES && (p = memchr(p, '{', (size_t)(end - p))) != NULL) {
            const char *close = memchr(p, '}', (size_t)(end - p));
            if (!close) break;
            size_t span = (size_t)(close - p + 1);
            if (gk_json_string(p, span, "status", c->status[c->n], sizeof c->status[0]) &&
                gk_json_long(p, span, "n", &c->count[c->n]))
                c->n++;
            p = close + 1;
        }
        c->from_db = 1;
        free(rows);
    }
    for (int i = 0; i < c->n; i++)
        if (strcmp(c->status[i], "closed") != 0) c->open += c->count[i];
}

/* A text value from a host call answering {"value": "..."}; fallback when it fails. */
static void host_value(const char *fn, const char *args, char *out, size_t cap,
                       const char *fallback) {
    uint32_t len = 0;
    char *answer = gk_host_call(fn, args, &len);
    if (!answer || !gk_json_string(answer, len, "value", out, cap) || !out[0]) {
        strncpy(out, fallback, cap - 1);
        out[cap - 1] = 0;
    }
    free(answer);
}

static void config_value(const char *key, char *out, size_t cap, const char *fallback) {
    gk_buf args = {0};
    gk_buf_puts(&args, "{\"key\":");
    gk_buf_json_str(&args, key);
    gk_buf_puts(&args, "}");
    host_value("config_get", args.data ? args.data : "{}", out, cap, fallback);
    free(args.data);
}

/* -- the handlers ---------------------------------------------------------------------- */

static uint64_t hello(const char *args, size_t len) {
    char name[128] = "world";
    if (args) gk_json_string(args, len, "name", name, sizeof name);
    gk_buf request = {0};
    gk_buf_puts(&request, "{\"key\":\"greeting\",\"args\":[");
    gk_buf_json_str(&request, name);
    gk_buf_puts(&request, "]}");
    char greeting[256];
    host_value("translate", request.data ? request.data : "{}", greeting, sizeof greeting,
               "Hello!");
    free(request.data);
    gk_log(GK_INFO, "greeted %s", name);

    gk_buf out = {0};
    gk_buf_puts(&out, "{\"message\":");
    gk_buf_json_str(&out, greeting);
    gk_buf_puts(&out, "}");
    return gk_buf_result(&out);
}

static void counts_json(gk_buf *out, const counts *c) {
    gk_buf_puts(out, "{\"counts\":{");
    for (int i = 0; i < c->n; i++) {
        if (i) gk_buf_puts(out, ",");
        gk_buf_json_str(out, c->status[i]);
        gk_buf_printf(out, ":%ld", c->count[i]);
    }
    gk_buf_printf(out, "},\"open\":%ld,\"source\":\"%s\"}", c->open,
                  c->from_db ? "database" : "sample");
}

static uint64_t summary(void) {
    counts c;
    count_tickets(&c);
    gk_buf out = {0};
    counts_json(&out, &c);
    return gk_buf_result(&out);
}

#define WIDGET_CACHE_KEY "overview-html"
#define WIDGET_TTL_S 30

static uint64_t overview_widget(void) {
    gk_buf html = {0};
    uint32_t len = 0;
    char *cached = gk_host_call("cache_get", "{\"key\":\"" WIDGET_CACHE_KEY "\"}", &len);
    char encoded[8192];
    if (cached && gk_json_string(cached, len, "value", encoded, sizeof encoded) && encoded[0]) {
        char decoded[6144];
        long n = gk_base64_decode(encoded, decoded, sizeof decoded);
        if (n > 0) {
            gk_log(GK_DEBUG, "overview from the cache");
            gk_buf_put(&html, decoded, (size_t)n);
        }
    }
    free(cached);

    if (html.len == 0) {
        counts c;
        count_tickets(&c);
        char title[128], team[64];
        host_value("translate", "{\"key\":\"overview.title\"}", title, sizeof title,
                   "Open tickets");
        config_value("team", team, sizeof team, "Support");
        /* Translations, config and database rows are text: escaped for HTML. */
        gk_buf_puts(&html, "<h3>");
        gk_buf_html(&html, title);
        gk_buf_puts(&html, " · ");
        gk_buf_html(&html, team);
        gk_buf_puts(&html, "</h3><ul>");
        for (int i = 0; i < c.n; i++) {
            gk_buf_puts(&html, "<li><b>");
            gk_buf_html(&html, c.status[i]);
            gk_buf_printf(&html, "</b>: %ld</li>", c.count[i]);
        }
        gk_buf_printf(&html, "</ul><p><i>%ld open, %s; cached for %ds</i></p>", c.open,
                      c.from_db ? "from the database" : "sample figures (no --db)",
                      WIDGET_TTL_S);

        gk_buf set = {0};
        gk_buf_printf(&set, "{\"key\":\"%s\",\"ttl\":%d,\"value\":\"", WIDGET_CACHE_KEY,
                      WIDGET_TTL_S);
        gk_buf_base64(&set, (const unsigned char *)html.data, html.len);
        gk_buf_puts(&set, "\"}");
        char *ok = set.failed ? NULL : gk_host_call("cache_set", set.data, NULL);
        free(ok);
        free(set.data);
    }

    gk_buf out = {0};
    gk_buf_puts(&out, "{\"html\":");
    gk_buf_json(&out, html.data ? html.data : "", html.len);
    gk_buf_puts(&out, "}");
    free(html.data);
    return gk_buf_result(&out);
}

static uint64_t recount(void) {
    gk_log(GK_DEBUG, "recount started");
    counts c;
    count_tickets(&c);
    char limit_text[32];
    config_value("alert_above", limit_text, sizeof limit_text, "10");
    long limit = strtol(limit_text, NULL, 10);
    gk_log(GK_INFO, "recounted: %ld open tickets (%s)", c.open,
           c.from_db ? "database" : "sample figures");
    if (c.open > limit) {
        gk_log(GK_WARN, "%ld open tickets, above %ld", c.open, limit);
        char team_mail[128];
        config_value("team_mail", team_mail, sizeof team_mail, "support@example.com");
        gk_buf mail = {0};
        gk_buf_puts(&mail, "{\"to\":[");
        gk_buf_json_str(&mail, team_mail);
        gk_buf_printf(&mail,
                      "],\"subject\":\"%ld open tickets\",\"body\":\"More than %ld tickets are "
                      "open.\",\"html\":false}",
                      c.open, limit);
        free(mail.failed ? NULL : gk_host_call("send_email", mail.data, NULL));
        free(mail.data);
    }
    gk_buf out = {0};
    gk_buf_printf(&out, "{\"open\":%ld,\"limit\":%ld}", c.open, limit);
    return gk_buf_result(&out);
}

static uint64_t assets(void) {
    uint32_t len = 0;
    char *answer = gk_host_call(
        "plugin_call", "{\"plugin\":\"inventory\",\"function\":\"list_assets\",\"args\":{}}", &len);
    gk_buf out = {0};
    if (!answer) {
        gk_buf_puts(&out, "{\"error\":\"the inventory plugin did not answer\"}");
    } else {
        gk_buf_puts(&out, "{\"from\":\"inventory\",\"assets\":");
        gk_buf_put(&out, answer, len);
        gk_buf_puts(&out, "}");
        free(answer);
    }
    return gk_buf_result(&out);
}

static uint64_t unknown(const char *fn, size_t len) {
    gk_buf out = {0};
    gk_buf_puts(&out, "{\"error\":");
    gk_buf_put(&out, "\"unknown function: ", 19);
    /* The name, escaped, without the closing quote of gk_buf_json's own. */
    gk_buf name = {0};
    gk_buf_json(&name, fn, len);
    if (name.data) gk_buf_put(&out, name.data + 1, name.len - 1);
    free(name.data);
    gk_buf_puts(&out, "}");
    return gk_buf_result(&out);
}

GK_EXPORT("gk_call")
uint64_t gk_call(uint32_t fn_ptr, uint32_t fn_len, uint32_t args_ptr, uint32_t args_len) {
    const char *fn = (const char *)(uintptr_t)fn_ptr;
    const char *args = args_len ? (const char *)(uintptr_t)args_ptr : NULL;
#define IS(name) (fn_len == sizeof name - 1 && memcmp(fn, name, fn_len) == 0)
    if (IS("hello")) return hello(args, args_len);
    if (IS("summary")) return summary();
    if (IS("overview_widget")) return overview_widget();
    if (IS("recount")) return recount();
    if (IS("assets")) return assets();
#undef IS
    return unknown(fn, fn_len);
}

int main(void) {
    /* Like TinyGo's runtime, ours is set up by _start; the handlers come after. */
    return 0;
}
