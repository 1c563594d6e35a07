/*
 * grpc_call: just enough gRPC for a C program whose messages protoc-c generated — unary and client-streaming calls
 * over HTTP/2 with libcurl, no gRPC library.
 *
 * The wire contract (https://github.com/grpc/grpc/blob/master/doc/PROTOCOL-HTTP2.md): a POST to
 * /<package.Service>/<Method> with content-type application/grpc and te: trailers; each message in the body is one
 * byte "compressed" (always 0 here) and a 4-byte big-endian length before the protobuf bytes; the answer's status is
 * the grpc-status / grpc-message pair in the trailers, or in the headers of a trailers-only answer. The path and the
 * message types come from the service descriptor protoc-c generated, so a call cannot name a method the contract
 * lacks or send it the wrong message.
 */
#ifndef C360_GRPC_CALL_H
#define C360_GRPC_CALL_H

#include <stddef.h>

#include <protobuf-c/protobuf-c.h>

/* The gRPC status codes (https://grpc.github.io/grpc/core/md_doc_statuscodes.html). */
enum {
    GRPC_STATUS_OK = 0,
    GRPC_STATUS_CANCELLED = 1,
    GRPC_STATUS_UNKNOWN = 2,
    GRPC_STATUS_INVALID_ARGUMENT = 3,
    GRPC_STATUS_DEADLINE_EXCEEDED = 4,
    GRPC_STATUS_NOT_FOUND = 5,
    GRPC_STATUS_ALREADY_EXISTS = 6,
    GRPC_STATUS_PERMISSION_DENIED = 7,
    GRPC_STATUS_RESOURCE_EXHAUSTED = 8,
    GRPC_STATUS_FAILED_PRECONDITION = 9,
    GRPC_STATUS_ABORTED = 10,
    GRPC_STATUS_OUT_OF_RANGE = 11,
    GRPC_STATUS_UNIMPLEMENTED = 12,
    GRPC_STATUS_INTERNAL = 13,
    GRPC_STATUS_UNAVAILABLE = 14,
    GRPC_STATUS_DATA_LOSS = 15,
    GRPC_STATUS_UNAUTHENTICATED = 16
};

/* How a call ended: the server's status, or one this client derived from a transport failure. */
typedef struct {
    int code;
    /* grpc-message, percent-decoded; or what went wrong on the way. Empty when the server sent none. */
    char message[1024];
} GrpcStatus;

/* One server to call: the target, the metadata sent with every call, the deadline, and a libcurl handle kept open so
 * consecutive calls share one HTTP/2 connection. */
typedef struct GrpcChannel GrpcChannel;

/*
 * Opens a channel to `target`: "host:port" (cleartext HTTP/2, prior knowledge, as gRPC servers without TLS expect),
 * or "http://host:port" / "https://host:port" (TLS, HTTP/2 by ALPN). `deadline_ms` bounds each call and is sent as
 * grpc-timeout. Returns NULL when libcurl cannot start or has no HTTP/2.
 */
GrpcChannel *grpc_channel_open(const char *target, long deadline_ms);

/* Adds "name: value" metadata to every call, e.g. ("authorization", "Bearer <secret>"). Names are lower-cased as
 * HTTP/2 requires. Returns 0, or -1 when the name or value is empty or not a valid header, or memory ran out. */
int grpc_channel_add_metadata(GrpcChannel *channel, const char *name, const char *value);

/* Prints libcurl's trace of each call to stderr. */
void grpc_channel_set_verbose(GrpcChannel *channel, int verbose);

void grpc_channel_close(GrpcChannel *channel);

/*
 * Calls `method` of `service` with `n_requests` messages — one for a unary RPC, any number for a client-streaming one
 * (sent in order, then the stream is half-closed) — and expects one answer.
 *
 * Returns the status code (also in `status`). On GRPC_STATUS_OK `*response` is the answer, unpacked as the method's
 * output type; free it with protobuf_c_message_free_unpacked(*response, NULL). Otherwise `*response` is NULL.
 */
int grpc_call(GrpcChannel *channel, const ProtobufCServiceDescriptor *service, const char *method,
              const ProtobufCMessage *const *requests, size_t n_requests, ProtobufCMessage **response,
              GrpcStatus *status);

/* "OK", "UNAUTHENTICATED", … as gRPC spells them; "UNKNOWN_STATUS" for a code outside 0–16. */
const char *grpc_status_name(int code);

#endif
