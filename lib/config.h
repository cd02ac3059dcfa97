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
#include "dns.h"
#include "domtable.h"
#include "trustnet.h"
#include "types.h"

#define TT_DEFAULT_SOCKET "inet:8894@127.0.0.1"
#define TT_DEFAULT_TAG "X-TLS-Trust"
#define TT_DEFAULT_PEER_TABLE 1000

/* DNS defaults: their product (2 s x 2 attempts x 7) stays under Postfix's 30 s. */
#define TT_DEFAULT_DNS_BUDGET 7
#define TT_DEFAULT_ZONE_DEPTH 3
#define TT_MAX_POLICY_ZONES 16
/* The MTA's milter command timeout the DNS bounds are checked against (ms). */
#define TT_MTA_COMMAND_TIMEOUT_MS 30000

/* PolicyZone NETWORK ZONE */
struct tt_policy_zone {
    char *network;
    char *zone;
};
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
    char *state_db;         /* SQLite file of the mail-state history; NULL: none kept */
    size_t peer_table_size; /* peers counted apart between two history writes */
    char *metrics_socket;   /* inet:PORT@ADDR of the Prometheus endpoint; NULL: off */
    char *policy_socket;    /* PolicyMapSocket: the Postfix socketmap; NULL: none (read at start) */
    int log_level;
    bool syslog;
    int facility;
    bool on_error_accept;
    enum tt_dialect dialect;
    /*
     * DNS (see dnspolicy.h): the settings as written, and, when something
     * needs DNS, the same with resolv.conf's servers filled in. The
     * resolver is not part of the configuration: it outlives reloads.
     */
    struct tt_dns_conf dns_conf;
    bool dns_needed;
    struct tt_dns_conf dns_effective;
    struct tt_policy_zone *zones;
    size_t nzones;
    int zone_depth;
    bool zone_require_dnssec;
    bool sender_signals;
    enum tt_req sender_req;
    const char *sender_network; /* DnsSenderRequirement trusted:NETWORK, else NULL */
    enum tt_action sender_action;
    bool on_dns_error_ignore;
    int dns_budget;
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

/* Print what a loaded configuration holds (for -n and tlstrustctl check). */
void tt_config_describe(const struct tt_config *c, FILE *out);

/* Every key with its effective value, one "Key value" line each (-n -v), like postconf -n. */
void tt_config_print(const struct tt_config *c, FILE *out);
/* Every key with its default, one "Key value" line each ("Key" alone: unset), like postconf -d. */
void tt_config_print_defaults(FILE *out);

/* True when addr is inside one of the InternalHosts blocks. */
bool tt_config_is_internal(const struct tt_config *c, const struct tt_cidr *addr);

#endif
