/*
 * mktag - print one X-TLS-Trust header line written by the project's own
 * tag writer (tt_tag_value), so that the filter tests read exactly what
 * the milter writes.
 *
 *   mktag -a AUTHSERV_ID [-l none|encrypted|verified|trusted] [-n NETWORK]
 *         [-s SUBJECT_CN] [-f]
 *
 * -f: a failed domain-table rule in monitor mode (policy=fail;
 * action=monitor). The TLS details are fixed: the filters never read them.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "policy.h"
#include "tag.h"

static int usage(void)
{
    fprintf(stderr, "usage: mktag -a AUTHSERV_ID [-l LEVEL] [-n NETWORK] [-s SUBJECT_CN] [-f]\n");
    return 2;
}

static int level_from_name(const char *name)
{
    for (int l = TT_LEVEL_NONE; l <= TT_LEVEL_TRUSTED; l++)
        if (strcmp(name, tt_level_name((enum tt_level)l)) == 0)
            return l;
    return -1;
}

/* A session at this level, as tls_state.c would have classified it. */
static void fill_session(struct tt_tls *s, enum tt_level level, const char *network,
                         const char *subject)
{
    memset(s, 0, sizeof(*s));
    s->level = level;
    s->bits = -1;
    if (level == TT_LEVEL_NONE)
        return;
    s->tls = true;
    snprintf(s->version, sizeof(s->version), "TLSv1.3");
    snprintf(s->cipher, sizeof(s->cipher), "TLS_AES_256_GCM_SHA384");
    s->bits = 256;
    if (level == TT_LEVEL_ENCRYPTED)
        return;
    s->verified = true;
    snprintf(s->verify, sizeof(s->verify), "OK");
    snprintf(s->subject_cn, sizeof(s->subject_cn), "%s", subject);
    snprintf(s->issuer_display, sizeof(s->issuer_display), "Test CA");
    if (level == TT_LEVEL_TRUSTED)
        snprintf(s->network, sizeof(s->network), "%s", network);
}

int main(int argc, char **argv)
{
    const char *authserv_id = NULL, *network = "redsegura", *subject = "mx.sender.test";
    int level = TT_LEVEL_NONE, opt;
    struct tt_verdict v = {.result = TT_RESULT_NONE};
    struct tt_tls s;
    char value[TT_TAG_MAX];

    while ((opt = getopt(argc, argv, "a:l:n:s:f")) != -1) {
        switch (opt) {
        case 'a':
            authserv_id = optarg;
            break;
        case 'l':
            level = level_from_name(optarg);
            if (level < 0)
                return usage();
            break;
        case 'n':
            network = optarg;
            break;
        case 's':
            subject = optarg;
            break;
        case 'f':
            v.result = TT_RESULT_FAIL;
            v.action = TT_ACTION_MONITOR;
            break;
        default:
            return usage();
        }
    }
    if (authserv_id == NULL || optind != argc)
        return usage();
    fill_session(&s, (enum tt_level)level, network, subject);
    if (tt_tag_value(value, sizeof(value), &s, &v, authserv_id) == 0)
        return 1;
    printf("X-TLS-Trust: %s\n", value);
    return 0;
}
