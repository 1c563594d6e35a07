/* grpc_call: gRPC unary and client-streaming calls over HTTP/2 with libcurl. See grpc_call.h. */
#include "grpc_call.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

/* The largest answer accepted, as gRPC's default receive limit. */
#define MAX_RESPONSE_BYTES (4u * 1024u * 1024u)
/* How long past the deadline libcurl waits, so the server's own DEADLINE_EXCEEDED can arrive first. */
#define DEADLINE_GRACE_MS 2000L

struct GrpcChannel {
    CURL *curl;
    /* "http://host:port" or "https://host:port", without a trailing slash. */
    char *base_url;
    int cleartext;
    /* Each call on a connection of its own: libcurl before 8.0 breaks a reused prior-knowledge HTTP/2 connection
     * ("Error in the HTTP2 framing layer", curl/curl#10634, fixed in 8.0.0; Debian 12 ships 7.88.1). */
    int fresh_connections;
    long deadline_ms;
    /* "name: value" lines sent with every call. */
    struct curl_slist *metadata;
    char curl_error[CURL_ERROR_SIZE];
};

/* What the header callback saw: headers of the answer and, after the body, its trailers. */
typedef struct {
    long http_status;
    int grpc_status; /* -1 until a grpc-status arrives */
    char grpc_message[1024];
    char content_type[128];
} ResponseHead;

typedef struct {
    unsigned char *bytes;
    size_t length;
    size_t capacity;
    int too_large;
} ResponseBody;

static const char *const status_names[] = {
    "OK",
    "CANCELLED",
    "UNKNOWN",
    "INVALID_ARGUMENT",
    "DEADLINE_EXCEEDED",
    "NOT_FOUND",
    "ALREADY_EXISTS",
    "PERMISSION_DENIED",
    "RESOURCE_EXHAUSTED",
    "FAILED_PRECONDITION",
    "ABORTED",
    "OUT_OF_RANGE",
    "UNIMPLEMENTED",
    "INTERNAL",
    "UNAVAILABLE",
    "DATA_LOSS",
    "UNAUTHENTICATED",
};

const char *grpc_status_name(int code) {
    if (code < 0 || (size_t)code >= sizeof status_names / sizeof status_names[0]) return "UNKNOWN_STATUS";
    return status_names[code];
}

static int set_status(GrpcStatus *status, int code, const char *format, const char *detail) {
    status->code = code;
    snprintf(status->message, sizeof status->message, format, detail ? detail : "");
    return code;
}

static char ascii_lower(char c) {
    return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

/* Whether the header line starts with `name` followed by ':', ignoring ASCII case. */
static int header_named(const char *line, size_t length, const char *name) {
    size_t n = strlen(name);
    if (length <= n || line[n] != ':') return 0;
    for (size_t i = 0; i < n; i++) {
        if (ascii_lower(line[i]) != name[i]) return 0;
    }
    return 1;
}

static int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    c = ascii_lower(c);
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

/* grpc-message is percent-encoded (UTF-8 bytes outside printable ASCII, and '%' itself). */
static void percent_decode(const char *in, size_t length, char *out, size_t capacity) {
    size_t o = 0;
    for (size_t i = 0; i < length && o + 1 < capacity; i++) {
        int high, low;
        if (in[i] == '%' && i + 2 < length && (high = hex_value(in[i + 1])) >= 0 &&
            (low = hex_value(in[i + 2])) >= 0) {
            out[o++] = (char)(high * 16 + low);
            i += 2;
        } else {
            out[o++] = in[i];
        }
    }
    out[o] = '\0';
}

static void copy_value(const char *value, size_t length, char *out, size_t capacity) {
    if (length >= capacity) length = capacity - 1;
    memcpy(out, value, length);
    out[length] = '\0';
}

/* libcurl calls this once per header line, status line included, and — for HTTP/2 — once per trailer after the body.
 * A trailers-only answer (an error before any message) carries grpc-status in its headers instead. */
static size_t on_header(char *line, size_t size, size_t count, void *context) {
    ResponseHead *head = context;
    size_t length = size * count;
    size_t total = length;
    while (length > 0 && (line[length - 1] == '\r' || line[length - 1] == '\n')) length--;

    if (length > 5 && memcmp(line, "HTTP/", 5) == 0) {
        /* A new response head (e.g. after an interim 1xx): forget what the previous one said. */
        const char *space = memchr(line, ' ', length);
        head->http_status = space ? strtol(space + 1, NULL, 10) : 0;
        head->grpc_status = -1;
        head->grpc_message[0] = '\0';
        head->content_type[0] = '\0';
        return total;
    }
    const char *colon = memchr(line, ':', length);
    if (!colon) return total;
    const char *value = colon + 1;
    size_t value_length = length - (size_t)(value - line);
    while (value_length > 0 && (*value == ' ' || *value == '\t')) {
        value++;
        value_length--;
    }
    if (header_named(line, length, "grpc-status")) {
        char digits[16];
        copy_value(value, value_length, digits, sizeof digits);
        char *end = NULL;
        long code = strtol(digits, &end, 10);
        head->grpc_status = (end != digits && *end == '\0' && code >= 0 && code <= 0xffff) ? (int)code
                                                                                            : GRPC_STATUS_UNKNOWN;
    } else if (header_named(line, length, "grpc-message")) {
        percent_decode(value, value_length, head->grpc_message, sizeof head->grpc_message);
    } else if (header_named(line, length, "content-type")) {
        copy_value(value, value_length, head->content_type, sizeof head->content_type);
    }
    return total;
}

static size_t on_body(char *bytes, size_t size, size_t count, void *context) {
    ResponseBody *body = context;
    size_t length = size * count;
    if (length > MAX_RESPONSE_BYTES + 5 - body->length) {
        body->too_large = 1;
        return 0; /* aborts the transfer */
    }
    if (body->length + length > body->capacity) {
        size_t capacity = body->capacity ? body->capacity : 4096;
        while (capacity < body->length + length) capacity *= 2;
        unsigned char *grown = realloc(body->bytes, capacity);
        if (!grown) return 0;
        body->bytes = grown;
        body->capacity = capacity;
    }
    memcpy(body->bytes + body->length, bytes, length);
    body->length += length;
    return length;
}

GrpcChannel *grpc_channel_open(const char *target, long deadline_ms) {
    static int curl_ready = 0;
    if (!curl_ready) {
        if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) return NULL;
        curl_ready = 1;
    }
    const curl_version_info_data *version = curl_version_info(CURLVERSION_NOW);
    if (!(version->features & CURL_VERSION_HTTP2)) {
        fprintf(stderr, "libcurl %s was built without HTTP/2, which gRPC needs\n", version->version);
        return NULL;
    }
    if (!target || !*target || deadline_ms <= 0) return NULL;

    GrpcChannel *channel = calloc(1, sizeof *channel);
    if (!channel) return NULL;
    channel->deadline_ms = deadline_ms;
    channel->fresh_connections = version->version_num < 0x080000;
    int has_scheme = strstr(target, "://") != NULL;
    channel->cleartext = !has_scheme || strncmp(target, "http://", 7) == 0;
    size_t length = strlen(target) + sizeof "http://";
    channel->base_url = malloc(length);
    channel->curl = curl_easy_init();
    if (!channel->base_url || !channel->curl) {
        grpc_channel_close(channel);
        return NULL;
    }
    snprintf(channel->base_url, length, "%s%s", has_scheme ? "" : "http://", target);
    size_t end = strlen(channel->base_url);
    while (end > 0 && channel->base_url[end - 1] == '/') channel->base_url[--end] = '\0';
    return channel;
}

int grpc_channel_add_metadata(GrpcChannel *channel, const char *name, const char *value) {
    size_t name_length = strlen(name), value_length = strlen(value);
    if (name_length == 0 || value_length == 0) return -1;
    for (size_t i = 0; i < name_length; i++) {
        char c = ascii_lower(name[i]);
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.')) return -1;
    }
    for (size_t i = 0; i < value_length; i++) {
        if ((unsigned char)value[i] < 0x20 || (unsigned char)value[i] > 0x7e) return -1;
    }
    size_t length = name_length + value_length + 3;
    char *line = malloc(length);
    if (!line) return -1;
    for (size_t i = 0; i < name_length; i++) line[i] = ascii_lower(name[i]);
    snprintf(line + name_length, length - name_length, ": %s", value);
    struct curl_slist *list = curl_slist_append(channel->metadata, line);
    free(line);
    if (!list) return -1;
    channel->metadata = list;
    return 0;
}

void grpc_channel_set_verbose(GrpcChannel *channel, int verbose) {
    curl_easy_setopt(channel->curl, CURLOPT_VERBOSE, verbose ? 1L : 0L);
}

void grpc_channel_close(GrpcChannel *channel) {
    if (!channel) return;
    if (channel->curl) curl_easy_cleanup(channel->curl);
    curl_slist_free_all(channel->metadata);
    free(channel->base_url);
    free(channel);
}

/* The requests, each framed as gRPC wants: flag byte 0 (not compressed), big-endian length, protobuf bytes. */
static unsigned char *frame_requests(const ProtobufCMessage *const *requests, size_t n_requests, size_t *length) {
    size_t total = 0;
    for (size_t i = 0; i < n_requests; i++) {
        size_t size = protobuf_c_message_get_packed_size(requests[i]);
        if (size > UINT32_MAX || total > SIZE_MAX - 5 - size) return NULL;
        total += 5 + size;
    }
    unsigned char *bytes = malloc(total ? total : 1);
    if (!bytes) return NULL;
    size_t offset = 0;
    for (size_t i = 0; i < n_requests; i++) {
        size_t size = protobuf_c_message_get_packed_size(requests[i]);
        bytes[offset] = 0;
        bytes[offset + 1] = (unsigned char)(size >> 24);
        bytes[offset + 2] = (unsigned char)(size >> 16);
        bytes[offset + 3] = (unsigned char)(size >> 8);
        bytes[offset + 4] = (unsigned char)size;
        protobuf_c_message_pack(requests[i], bytes + offset + 5);
        offset += 5 + size;
    }
    *length = total;
    return bytes;
}

/* The status gRPC prescribes for an HTTP answer that carries none of its own. */
static int status_for_http(long http_status) {
    switch (http_status) {
    case 400: return GRPC_STATUS_INTERNAL;
    case 401: return GRPC_STATUS_UNAUTHENTICATED;
    case 403: return GRPC_STATUS_PERMISSION_DENIED;
    case 404: return GRPC_STATUS_UNIMPLEMENTED;
    case 429:
    case 502:
    case 503:
    case 504: return GRPC_STATUS_UNAVAILABLE;
    default: return GRPC_STATUS_UNKNOWN;
    }
}

static int status_for_transport(CURLcode error) {
    switch (error) {
    case CURLE_OPERATION_TIMEDOUT: return GRPC_STATUS_DEADLINE_EXCEEDED;
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_CONNECT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
    case CURLE_SSL_CONNECT_ERROR: return GRPC_STATUS_UNAVAILABLE;
    default: return GRPC_STATUS_INTERNAL;
    }
}

/* Reads the one answer out of the framed body. */
static int unpack_answer(const ResponseBody *body, const ProtobufCMessageDescriptor *type,
                         ProtobufCMessage **response, GrpcStatus *status) {
    size_t offset = 0, count = 0;
    while (offset < body->length) {
        if (body->length - offset < 5) {
            return set_status(status, GRPC_STATUS_INTERNAL, "truncated message frame in the answer%s", NULL);
        }
        const unsigned char *frame = body->bytes + offset;
        size_t size = ((size_t)frame[1] << 24) | ((size_t)frame[2] << 16) | ((size_t)frame[3] << 8) | frame[4];
        if (frame[0] != 0) {
            return set_status(status, GRPC_STATUS_INTERNAL, "compressed answer, but no compression was offered%s",
                              NULL);
        }
        if (body->length - offset - 5 < size) {
            return set_status(status, GRPC_STATUS_INTERNAL, "truncated message in the answer%s", NULL);
        }
        if (++count == 1) {
            *response = protobuf_c_message_unpack(type, NULL, size, frame + 5);
            if (!*response) {
                return set_status(status, GRPC_STATUS_INTERNAL, "the answer is not a valid %s", type->name);
            }
        }
        offset += 5 + size;
    }
    if (count != 1) {
        if (*response) protobuf_c_message_free_unpacked(*response, NULL);
        *response = NULL;
        char detail[160];
        snprintf(detail, sizeof detail, "%zu messages of type %s", count, type->name);
        return set_status(status, GRPC_STATUS_INTERNAL, "expected one answer, got %s", detail);
    }
    return set_status(status, GRPC_STATUS_OK, "%s", NULL);
}

int grpc_call(GrpcChannel *channel, const ProtobufCServiceDescriptor *service, const char *method,
              const ProtobufCMessage *const *requests, size_t n_requests, ProtobufCMessage **response,
              GrpcStatus *status) {
    *response = NULL;
    const ProtobufCMethodDescriptor *descriptor = protobuf_c_service_descriptor_get_method_by_name(service, method);
    if (!descriptor) return set_status(status, GRPC_STATUS_UNIMPLEMENTED, "%s has no such method", service->name);
    for (size_t i = 0; i < n_requests; i++) {
        if (requests[i]->descriptor != descriptor->input) {
            return set_status(status, GRPC_STATUS_INTERNAL, "the request is not a %s", descriptor->input->name);
        }
    }

    size_t body_length = 0;
    unsigned char *request_body = frame_requests(requests, n_requests, &body_length);
    if (!request_body) return set_status(status, GRPC_STATUS_RESOURCE_EXHAUSTED, "cannot frame the request%s", NULL);

    size_t url_length = strlen(channel->base_url) + strlen(service->name) + strlen(descriptor->name) + 3;
    char *url = malloc(url_length);
    char timeout_header[64];
    snprintf(timeout_header, sizeof timeout_header, "grpc-timeout: %ldm",
             channel->deadline_ms > 99999999L ? 99999999L : channel->deadline_ms);
    /* Our lines, then the channel's metadata. "accept:" and "expect:" with no value stop libcurl adding its own. */
    const char *fixed[] = {"content-type: application/grpc", "te: trailers", timeout_header,
                           "grpc-accept-encoding: identity", "accept:", "expect:"};
    struct curl_slist *headers = NULL;
    int out_of_memory = url == NULL;
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0] && !out_of_memory; i++) {
        struct curl_slist *list = curl_slist_append(headers, fixed[i]);
        if (list) headers = list; else out_of_memory = 1;
    }
    for (const struct curl_slist *entry = channel->metadata; entry && !out_of_memory; entry = entry->next) {
        struct curl_slist *list = curl_slist_append(headers, entry->data);
        if (list) headers = list; else out_of_memory = 1;
    }
    if (out_of_memory) {
        curl_slist_free_all(headers);
        free(url);
        free(request_body);
        return set_status(status, GRPC_STATUS_RESOURCE_EXHAUSTED, "out of memory%s", NULL);
    }
    snprintf(url, url_length, "%s/%s/%s", channel->base_url, service->name, descriptor->name);

    ResponseHead head = {.http_status = 0, .grpc_status = -1};
    ResponseBody body = {0};
    CURL *curl = channel->curl;
    channel->curl_error[0] = '\0';
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_HTTP_VERSION,
                     channel->cleartext ? (long)CURL_HTTP_VERSION_2_PRIOR_KNOWLEDGE : (long)CURL_HTTP_VERSION_2TLS);
    curl_easy_setopt(curl, CURLOPT_POST, 1L);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, (const char *)request_body);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_length);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl, CURLOPT_USERAGENT, "c360-pos/1.0 grpc-c-libcurl/" LIBCURL_VERSION);
    curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(curl, CURLOPT_HEADERDATA, &head);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &body);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, channel->deadline_ms + DEADLINE_GRACE_MS);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_FORBID_REUSE, channel->fresh_connections && channel->cleartext ? 1L : 0L);
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, channel->curl_error);
    CURLcode result = curl_easy_perform(curl);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, NULL);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, NULL);
    curl_slist_free_all(headers);
    free(url);
    free(request_body);

    int code;
    if (body.too_large) {
        code = set_status(status, GRPC_STATUS_RESOURCE_EXHAUSTED, "the answer is larger than %s", "4 MiB");
    } else if (head.grpc_status > GRPC_STATUS_OK) {
        /* The server's verdict, even when the stream was reset after it. */
        code = set_status(status, head.grpc_status, "%s", head.grpc_message);
    } else if (result != CURLE_OK) {
        code = set_status(status, status_for_transport(result), "%s",
                          channel->curl_error[0] ? channel->curl_error : curl_easy_strerror(result));
    } else if (head.grpc_status < 0) {
        char detail[64];
        snprintf(detail, sizeof detail, "%ld", head.http_status);
        code = set_status(status, head.http_status == 200 ? GRPC_STATUS_INTERNAL : status_for_http(head.http_status),
                          "HTTP status %s without a grpc-status", detail);
    } else if (strncmp(head.content_type, "application/grpc", 16) != 0) {
        code = set_status(status, GRPC_STATUS_UNKNOWN, "not a gRPC answer (content-type \"%s\")", head.content_type);
    } else {
        code = unpack_answer(&body, descriptor->output, response, status);
    }
    free(body.bytes);
    return code;
}
