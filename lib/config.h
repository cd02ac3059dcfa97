/*
 * config.h - tlstrust.conf: "Name value" lines as in OpenDKIM. A loaded
 * configuration also owns the trusted networks and the domain table, so a
 * reload swaps all three at once.
 */
#ifndef TT_CONFIG_H
#define TT_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <time.h>

#include "cidr.h"
#include "domtable.h"
#include "trustnet.h"
#include "types.h"

#define TT_DEFAULT_SOCKET "inet:8894@127.0.0.1"
#define TT_DEFAULT_TAG "X-TLS-Trust"

struct tt_config {
    char *path;
    char *socket;
    struct tt_trust trust;
    char *table_path;
    struct tt_table *table; /* NULL: tag only, enforce nothing */
    enum tt_action default_action;
    char *authserv_id; /* NULL: the MTA's j macro, else the host name */
    char *tag_header;
    bool auth_results;
    struct tt_cidr *internal;
    size_t ninternal;
    char *user;
    char *pidfile;
    int log_level;
    bool syslog;
    int facility;
    bool on_error_accept;
    enum tt_dialect dialect;
};

/*
 * Read the configuration at path, then its bundles and table. Relative
 * file names are taken from the configuration file's directory. On error
 * returns NULL with "FILE:LINE: message" (or the bundle/table error) in err.
 * now is the clock used for CA expiry warnings.
 */
struct tt_config *tt_config_load(const char *path, time_t now, char *err, size_t errsz);
/* The same, from an open stream; path names it and anchors relative paths. */
struct tt_config *tt_config_load_stream(FILE *f, const char *path, time_t now, char *err,
                                        size_t errsz);
void tt_config_free(struct tt_config *c);

/* True when addr is inside one of the InternalHosts blocks. */
bool tt_config_is_internal(const struct tt_config *c, const struct tt_cidr *addr);

#endif
