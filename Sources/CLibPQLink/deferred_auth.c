// libpq's GSSAPI and LDAP calls, with the libraries loaded only when a connection uses them.
//
// Why (issue 18, docs/benchmarks.md "libpq linked in"): libpq.so.5 pulls in 21 more
// shared libraries (libssl, libcrypto, GSSAPI/Kerberos, LDAP, SASL, GnuTLS, p11-kit …),
// and ld.so loads, relocates and initialises every one of them at every gmp start: ~2 ms
// of each cold command, although a connection over a Unix socket or with password or
// SCRAM authentication never calls GSSAPI or LDAP. gmp links libpq's static archive
// instead (Package.swift), and libpq.a's only references beyond libc, OpenSSL and
// pgcommon are the 11 GSSAPI functions, GSS_C_NT_HOSTBASED_SERVICE and the 12 LDAP
// functions defined below. Each loads the real library once (pthread_once), on its first
// call, and forwards to it. A TCP connection with libpq's default gssencmode=prefer
// calls gss_acquire_cred (is there a Kerberos credential cache?), so libgssapi_krb5 is
// loaded then; an `ldap://` line in a service file loads libldap.
//
// If a library cannot be loaded, each function answers as the real one does when it
// fails (GSS_S_FAILURE; NULL or an LDAP error), so that libpq reports an error of its
// own instead of gmp failing to start. The messages then name the missing library.
//
// The prototypes are the documented ones of MIT krb5's <gssapi/gssapi.h> and OpenLDAP's
// <ldap.h> (libkrb5-dev and libldap-dev are not needed to build gmp); the types are
// opaque pointers or the standard structs, whose layout both headers fix.
#ifdef GMP_LIBPQ_STATIC

#include <dlfcn.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/time.h>

#include "CLibPQLink.h"

// MARK: GSSAPI (RFC 2744, MIT krb5)

typedef uint32_t OM_uint32;
typedef struct gss_name_struct *gss_name_t;
typedef struct gss_cred_id_struct *gss_cred_id_t;
typedef struct gss_ctx_id_struct *gss_ctx_id_t;
typedef struct gss_channel_bindings_struct *gss_channel_bindings_t;
typedef struct gss_OID_desc_struct { OM_uint32 length; void *elements; } gss_OID_desc, *gss_OID;
typedef struct gss_OID_set_desc_struct { size_t count; gss_OID elements; } gss_OID_set_desc, *gss_OID_set;
typedef struct gss_buffer_desc_struct { size_t length; void *value; } gss_buffer_desc, *gss_buffer_t;
typedef int gss_cred_usage_t;
typedef OM_uint32 gss_qop_t;

#define GSS_S_COMPLETE 0u
#define GSS_S_FAILURE (13u << 16)  // GSS_S_FAILURE: routine error 13

// GSS_C_NT_HOSTBASED_SERVICE: {iso(1) member-body(2) Unites States(840) mit(113554)
// infosys(1) gssapi(2) generic(1) service_name(4)}, RFC 2744 section 4.1.
static gss_OID_desc hostbased_service_oid = {10, (void *)"\x2a\x86\x48\x86\xf7\x12\x01\x02\x01\x04"};
gss_OID GSS_C_NT_HOSTBASED_SERVICE = &hostbased_service_oid;

static const char *const gssapi_sonames[] = {"libgssapi_krb5.so.2", "libgssapi.so.3", NULL};

static struct {
    OM_uint32 (*acquire_cred)(OM_uint32 *, gss_name_t, OM_uint32, gss_OID_set, gss_cred_usage_t, gss_cred_id_t *,
                              gss_OID_set *, OM_uint32 *);
    OM_uint32 (*delete_sec_context)(OM_uint32 *, gss_ctx_id_t *, gss_buffer_t);
    OM_uint32 (*display_status)(OM_uint32 *, OM_uint32, int, gss_OID, OM_uint32 *, gss_buffer_t);
    OM_uint32 (*import_name)(OM_uint32 *, gss_buffer_t, gss_OID, gss_name_t *);
    OM_uint32 (*init_sec_context)(OM_uint32 *, gss_cred_id_t, gss_ctx_id_t *, gss_name_t, gss_OID, OM_uint32, OM_uint32,
                                  gss_channel_bindings_t, gss_buffer_t, gss_OID *, gss_buffer_t, OM_uint32 *,
                                  OM_uint32 *);
    OM_uint32 (*release_buffer)(OM_uint32 *, gss_buffer_t);
    OM_uint32 (*release_cred)(OM_uint32 *, gss_cred_id_t *);
    OM_uint32 (*release_name)(OM_uint32 *, gss_name_t *);
    OM_uint32 (*unwrap)(OM_uint32 *, gss_ctx_id_t, gss_buffer_t, gss_buffer_t, int *, gss_qop_t *);
    OM_uint32 (*wrap)(OM_uint32 *, gss_ctx_id_t, int, gss_qop_t, gss_buffer_t, int *, gss_buffer_t);
    OM_uint32 (*wrap_size_limit)(OM_uint32 *, gss_ctx_id_t, int, gss_qop_t, OM_uint32, OM_uint32 *);
    gss_OID *hostbased_service;  // the library's own GSS_C_NT_HOSTBASED_SERVICE
} gss;
static int gss_loaded;
static pthread_once_t gss_once = PTHREAD_ONCE_INIT;

/// One function or variable to find in a loaded library, and where to keep its address.
struct symbol {
    const char *name;
    void **slot;
};

/// Opens the first of `sonames` that loads and finds every one of `symbols` in it: 1 when
/// all are there, 0 (and the library closed again) otherwise.
static int load_library(const char *const *sonames, const struct symbol *symbols, size_t count) {
    void *handle = NULL;
    for (; handle == NULL && *sonames != NULL; sonames++) handle = dlopen(*sonames, RTLD_NOW | RTLD_LOCAL);
    if (handle == NULL) return 0;
    for (size_t i = 0; i < count; i++) {
        if ((*symbols[i].slot = dlsym(handle, symbols[i].name)) == NULL) {
            dlclose(handle);
            return 0;
        }
    }
    return 1;
}

static void load_gssapi(void) {
    const struct symbol symbols[] = {
        {"gss_acquire_cred", (void **)&gss.acquire_cred},
        {"gss_delete_sec_context", (void **)&gss.delete_sec_context},
        {"gss_display_status", (void **)&gss.display_status},
        {"gss_import_name", (void **)&gss.import_name},
        {"gss_init_sec_context", (void **)&gss.init_sec_context},
        {"gss_release_buffer", (void **)&gss.release_buffer},
        {"gss_release_cred", (void **)&gss.release_cred},
        {"gss_release_name", (void **)&gss.release_name},
        {"gss_unwrap", (void **)&gss.unwrap},
        {"gss_wrap", (void **)&gss.wrap},
        {"gss_wrap_size_limit", (void **)&gss.wrap_size_limit},
        {"GSS_C_NT_HOSTBASED_SERVICE", (void **)&gss.hostbased_service},
    };
    gss_loaded = load_library(gssapi_sonames, symbols, sizeof symbols / sizeof symbols[0]);
}

static int have_gssapi(void) {
    pthread_once(&gss_once, load_gssapi);
    return gss_loaded;
}

/// Without the library: GSS_S_FAILURE with no minor status, as the library's own failures.
#define GSSAPI_OR_FAILURE(minor)               \
    do {                                       \
        if (!have_gssapi()) {                  \
            if ((minor) != NULL) *(minor) = 0; \
            return GSS_S_FAILURE;              \
        }                                      \
    } while (0)

/// What gss_display_status says when the library could not be loaded (libpq appends it to
/// its own GSSAPI error); gss_release_buffer knows not to free it.
static char gssapi_missing[] = "GSSAPI library libgssapi_krb5.so.2 could not be loaded";

OM_uint32 gss_acquire_cred(OM_uint32 *minor, gss_name_t name, OM_uint32 time_req, gss_OID_set mechs,
                           gss_cred_usage_t usage, gss_cred_id_t *cred, gss_OID_set *actual_mechs,
                           OM_uint32 *time_rec) {
    GSSAPI_OR_FAILURE(minor);
    return gss.acquire_cred(minor, name, time_req, mechs, usage, cred, actual_mechs, time_rec);
}

OM_uint32 gss_delete_sec_context(OM_uint32 *minor, gss_ctx_id_t *context, gss_buffer_t token) {
    GSSAPI_OR_FAILURE(minor);
    return gss.delete_sec_context(minor, context, token);
}

OM_uint32 gss_display_status(OM_uint32 *minor, OM_uint32 status, int type, gss_OID mech, OM_uint32 *message_context,
                             gss_buffer_t text) {
    if (!have_gssapi()) {
        if (minor) *minor = 0;
        if (message_context == NULL || *message_context != 0 || text == NULL) return GSS_S_FAILURE;
        text->value = gssapi_missing;
        text->length = strlen(gssapi_missing);
        return GSS_S_COMPLETE;
    }
    return gss.display_status(minor, status, type, mech, message_context, text);
}

OM_uint32 gss_import_name(OM_uint32 *minor, gss_buffer_t name, gss_OID type, gss_name_t *output) {
    GSSAPI_OR_FAILURE(minor);
    // libpq passes our GSS_C_NT_HOSTBASED_SERVICE: give the library its own object.
    if (type == GSS_C_NT_HOSTBASED_SERVICE || type == &hostbased_service_oid) type = *gss.hostbased_service;
    return gss.import_name(minor, name, type, output);
}

OM_uint32 gss_init_sec_context(OM_uint32 *minor, gss_cred_id_t cred, gss_ctx_id_t *context, gss_name_t target,
                               gss_OID mech, OM_uint32 flags, OM_uint32 time_req, gss_channel_bindings_t bindings,
                               gss_buffer_t input, gss_OID *actual_mech, gss_buffer_t output, OM_uint32 *ret_flags,
                               OM_uint32 *time_rec) {
    GSSAPI_OR_FAILURE(minor);
    return gss.init_sec_context(minor, cred, context, target, mech, flags, time_req, bindings, input, actual_mech,
                                output, ret_flags, time_rec);
}

OM_uint32 gss_release_buffer(OM_uint32 *minor, gss_buffer_t buffer) {
    if (buffer != NULL && buffer->value == gssapi_missing) {
        buffer->value = NULL;
        buffer->length = 0;
        if (minor) *minor = 0;
        return GSS_S_COMPLETE;
    }
    GSSAPI_OR_FAILURE(minor);
    return gss.release_buffer(minor, buffer);
}

OM_uint32 gss_release_cred(OM_uint32 *minor, gss_cred_id_t *cred) {
    GSSAPI_OR_FAILURE(minor);
    return gss.release_cred(minor, cred);
}

OM_uint32 gss_release_name(OM_uint32 *minor, gss_name_t *name) {
    GSSAPI_OR_FAILURE(minor);
    return gss.release_name(minor, name);
}

OM_uint32 gss_unwrap(OM_uint32 *minor, gss_ctx_id_t context, gss_buffer_t input, gss_buffer_t output, int *conf_state,
                     gss_qop_t *qop_state) {
    GSSAPI_OR_FAILURE(minor);
    return gss.unwrap(minor, context, input, output, conf_state, qop_state);
}

OM_uint32 gss_wrap(OM_uint32 *minor, gss_ctx_id_t context, int conf_req, gss_qop_t qop, gss_buffer_t input,
                   int *conf_state, gss_buffer_t output) {
    GSSAPI_OR_FAILURE(minor);
    return gss.wrap(minor, context, conf_req, qop, input, conf_state, output);
}

OM_uint32 gss_wrap_size_limit(OM_uint32 *minor, gss_ctx_id_t context, int conf_req, gss_qop_t qop,
                              OM_uint32 output_size, OM_uint32 *max_input_size) {
    GSSAPI_OR_FAILURE(minor);
    return gss.wrap_size_limit(minor, context, conf_req, qop, output_size, max_input_size);
}

// MARK: LDAP (OpenLDAP's <ldap.h>; libpq uses the deprecated LDAPv2-style calls)

typedef struct ldap LDAP;
typedef struct ldapmsg LDAPMessage;
struct berval;

#define LDAP_OPT_ERROR (-1)
#define LDAP_OTHER 0x50

static const char *const ldap_sonames[] = {"libldap-2.5.so.0", "libldap.so.2", "libldap-2.4.so.2", NULL};

static struct {
    int (*count_entries)(LDAP *, LDAPMessage *);
    char *(*err2string)(int);
    LDAPMessage *(*first_entry)(LDAP *, LDAPMessage *);
    struct berval **(*get_values_len)(LDAP *, LDAPMessage *, const char *);
    LDAP *(*init)(const char *, int);
    int (*msgfree)(LDAPMessage *);
    int (*result)(LDAP *, int, int, struct timeval *, LDAPMessage **);
    int (*search_st)(LDAP *, const char *, int, const char *, char **, int, struct timeval *, LDAPMessage **);
    int (*set_option)(LDAP *, int, const void *);
    int (*simple_bind)(LDAP *, const char *, const char *);
    int (*unbind)(LDAP *);
    void (*value_free_len)(struct berval **);
} ldap;
static int ldap_loaded;
static pthread_once_t ldap_once = PTHREAD_ONCE_INIT;

static void load_ldap(void) {
    const struct symbol symbols[] = {
        {"ldap_count_entries", (void **)&ldap.count_entries},
        {"ldap_err2string", (void **)&ldap.err2string},
        {"ldap_first_entry", (void **)&ldap.first_entry},
        {"ldap_get_values_len", (void **)&ldap.get_values_len},
        {"ldap_init", (void **)&ldap.init},
        {"ldap_msgfree", (void **)&ldap.msgfree},
        {"ldap_result", (void **)&ldap.result},
        {"ldap_search_st", (void **)&ldap.search_st},
        {"ldap_set_option", (void **)&ldap.set_option},
        {"ldap_simple_bind", (void **)&ldap.simple_bind},
        {"ldap_unbind", (void **)&ldap.unbind},
        {"ldap_value_free_len", (void **)&ldap.value_free_len},
    };
    ldap_loaded = load_library(ldap_sonames, symbols, sizeof symbols / sizeof symbols[0]);
}

static int have_ldap(void) {
    pthread_once(&ldap_once, load_ldap);
    return ldap_loaded;
}

// Without the library ldap_init fails (libpq: "could not create LDAP structure"), so libpq
// calls none of the others; they still fail as documented if it ever does.

LDAP *ldap_init(const char *host, int port) {
    return have_ldap() ? ldap.init(host, port) : NULL;
}

int ldap_set_option(LDAP *ld, int option, const void *value) {
    return have_ldap() ? ldap.set_option(ld, option, value) : LDAP_OPT_ERROR;
}

int ldap_simple_bind(LDAP *ld, const char *who, const char *password) {
    return have_ldap() ? ldap.simple_bind(ld, who, password) : -1;
}

int ldap_result(LDAP *ld, int msgid, int all, struct timeval *timeout, LDAPMessage **result) {
    if (have_ldap()) return ldap.result(ld, msgid, all, timeout, result);
    if (result) *result = NULL;
    return -1;
}

int ldap_msgfree(LDAPMessage *message) {
    return have_ldap() ? ldap.msgfree(message) : -1;
}

int ldap_search_st(LDAP *ld, const char *base, int scope, const char *filter, char **attributes, int attributes_only,
                   struct timeval *timeout, LDAPMessage **result) {
    if (have_ldap()) return ldap.search_st(ld, base, scope, filter, attributes, attributes_only, timeout, result);
    if (result) *result = NULL;
    return LDAP_OTHER;
}

int ldap_count_entries(LDAP *ld, LDAPMessage *chain) {
    return have_ldap() ? ldap.count_entries(ld, chain) : -1;
}

LDAPMessage *ldap_first_entry(LDAP *ld, LDAPMessage *chain) {
    return have_ldap() ? ldap.first_entry(ld, chain) : NULL;
}

struct berval **ldap_get_values_len(LDAP *ld, LDAPMessage *entry, const char *attribute) {
    return have_ldap() ? ldap.get_values_len(ld, entry, attribute) : NULL;
}

void ldap_value_free_len(struct berval **values) {
    if (have_ldap()) ldap.value_free_len(values);
}

int ldap_unbind(LDAP *ld) {
    return have_ldap() ? ldap.unbind(ld) : -1;
}

char *ldap_err2string(int error) {
    static char missing[] = "LDAP library libldap-2.5.so.0 could not be loaded";
    return have_ldap() ? ldap.err2string(error) : missing;
}

#endif  // GMP_LIBPQ_STATIC
