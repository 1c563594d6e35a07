/*
 * pos: a point-of-sale till's link to Customer 360, in C with no gRPC library — protobuf-c for the messages (code
 * generated from Proto/ into generated/) and libcurl for gRPC over HTTP/2 (grpc_call.c).
 *
 * It records in-store purchases (InteractionService.RecordTouchpoint, or a whole offline journal as one
 * RecordTouchpoints client stream), earns loyalty points for them (ProfileService.EarnPoints) and reads a customer's
 * balance (ProfileService.GetLoyalty), all through the gateway with an API key — the services' own contracts, which
 * the gateway forwards. Every write is idempotent (event id and transaction id "pos-<order>"), so a till that is not
 * sure a call went through simply sends it again.
 *
 * Run `pos --help` for the commands. Exit status: 0 done; 1 a call failed (its gRPC status is printed) or an
 * uploaded line was rejected; 2 the command line was wrong.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "customer360/v1/interaction.pb-c.h"
#include "customer360/v1/profile.pb-c.h"
#include "grpc_call.h"

#define EXIT_CALL_FAILED 1
#define EXIT_USAGE 2
#define MAX_HEADERS 16
#define MAX_ITEMS 50
#define DEFAULT_GATEWAY "127.0.0.1:50050"

static const char usage_text[] =
    "usage: pos [OPTIONS] COMMAND [ARGUMENTS]\n"
    "\n"
    "Options, before the command:\n"
    "  --gateway HOST:PORT     the gateway's gRPC address, or http[s]://HOST:PORT\n"
    "                          (default $C360_GATEWAY, else " DEFAULT_GATEWAY ")\n"
    "  --api-key SECRET        the API key, sent as 'authorization: Bearer SECRET' (default $C360_API_KEY);\n"
    "                          recording and earning need an agent key, reading a viewer key\n"
    "  --api-key-file PATH     read the API key from a file, e.g. data/gateway/bootstrap-admin.key\n"
    "  --header 'NAME: VALUE'  extra metadata on every call (repeatable), e.g. 'x-c360-service-token: T' to talk to\n"
    "                          a service directly\n"
    "  --timeout SECONDS       deadline of each call (default 10)\n"
    "  --verbose               trace the HTTP/2 exchange on stderr\n"
    "\n"
    "Commands:\n"
    "  purchase --customer ID --order ORDER --amount-minor N --currency CODE\n"
    "           [--item SKU:QUANTITY:UNIT_PRICE_MINOR[:NAME]]... [--discount-code CODE] [--store STORE]\n"
    "           [--points N] [--at UNIX_SECONDS]\n"
    "      Records an in-store purchase (event id pos-ORDER) made now, or at --at; with --points also earns N\n"
    "      loyalty points for it (transaction id pos-ORDER). It prints the time it sent: sending the same order\n"
    "      again with that --at records and earns nothing new; with another time the service refuses it.\n"
    "  earn --customer ID --points N [--reason TEXT] [--transaction ID]\n"
    "      Earns loyalty points and prints the new balance.\n"
    "  balance --customer ID\n"
    "      Prints the customer's loyalty balance, lifetime points and tier.\n"
    "  upload [FILE]\n"
    "      Sends an offline journal (FILE, or standard input) as one client stream, one purchase a line:\n"
    "      CUSTOMER_ID ORDER_ID AMOUNT_MINOR CURRENCY [UNIX_SECONDS]; blank lines and lines starting with # are\n"
    "      skipped. Prints the counts and each rejected line; exits 1 when any line was rejected.\n";

/* Options that apply to every command. */
typedef struct {
    const char *gateway;
    const char *api_key;
    const char *api_key_file;
    const char *headers[MAX_HEADERS];
    size_t n_headers;
    long timeout_ms;
    int verbose;
} GlobalOptions;

/* One line of a purchase as the till knows it. */
typedef struct {
    char *sku;
    int32_t quantity;
    int64_t unit_price_minor;
    char *name;
} ItemInput;

/* A purchase as the till knows it, before it becomes a Touchpoint. */
typedef struct {
    char *customer_id;
    char *order_id;
    int64_t amount_minor;
    char *currency;
    char *discount_code;
    char *store;
    /* When it happened, in whole Unix seconds (so a retry can send exactly the same); 0 means now. */
    int64_t occurred_at_seconds;
    ItemInput *items;
    size_t n_items;
} PurchaseInput;

/* A PURCHASE touchpoint and every message it points to, kept together so one free releases them. */
typedef struct {
    char event_id[160];
    Google__Protobuf__Timestamp occurred_at;
    Customer360__V1__Money amount;
    Customer360__V1__Purchase purchase;
    Customer360__V1__PurchaseItem *items;
    Customer360__V1__Money *unit_prices;
    Customer360__V1__PurchaseItem **item_pointers;
    Customer360__V1__Touchpoint__AttributesEntry store;
    Customer360__V1__Touchpoint__AttributesEntry *attributes[1];
    Customer360__V1__Touchpoint touchpoint;
} PurchaseTouchpoint;

static int usage_error(const char *format, const char *detail) {
    fprintf(stderr, "pos: ");
    fprintf(stderr, format, detail);
    fprintf(stderr, "\n(pos --help lists the commands and options)\n");
    return EXIT_USAGE;
}

/* Matches `--name VALUE` or `--name=VALUE` at argv[*i]; advances *i past it. Returns 1 on a match, 0 when argv[*i] is
 * another option, -1 when the option has no value. */
static int take_option(int argc, char **argv, int *i, const char *name, char **value) {
    size_t length = strlen(name);
    const char *argument = argv[*i];
    if (strncmp(argument, name, length) != 0) return 0;
    if (argument[length] == '=') {
        *value = argv[*i] + length + 1;
        return 1;
    }
    if (argument[length] != '\0') return 0;
    if (*i + 1 >= argc) return -1;
    *i += 1;
    *value = argv[*i];
    return 1;
}

/* Parses a whole decimal integer within [minimum, maximum]. */
static int parse_integer(const char *text, int64_t minimum, int64_t maximum, int64_t *out) {
    if (!text || !*text) return -1;
    errno = 0;
    char *end = NULL;
    long long value = strtoll(text, &end, 10);
    if (errno != 0 || *end != '\0' || value < minimum || value > maximum) return -1;
    *out = (int64_t)value;
    return 0;
}

static char *copy_string(const char *text) {
    size_t length = strlen(text) + 1;
    char *copy = malloc(length);
    if (copy) memcpy(copy, text, length);
    return copy;
}

/* "GOLD" for LOYALTY_TIER_GOLD, read from the enum descriptor protoc-c generated. */
static const char *tier_name(Customer360__V1__LoyaltyTier tier) {
    const ProtobufCEnumValue *value =
        protobuf_c_enum_descriptor_get_value(&customer360__v1__loyalty_tier__descriptor, (int)tier);
    if (!value) return "UNKNOWN";
    const char *prefix = "LOYALTY_TIER_";
    size_t length = strlen(prefix);
    return strncmp(value->name, prefix, length) == 0 ? value->name + length : value->name;
}

/* Prints a failed call the way gRPC names it, e.g. "pos: customer360.v1.ProfileService/GetLoyalty: UNAUTHENTICATED:
 * …", and returns the exit status for it. */
static int report_failure(const ProtobufCServiceDescriptor *service, const char *method, const GrpcStatus *status) {
    fprintf(stderr, "pos: %s/%s: %s: %s\n", service->name, method, grpc_status_name(status->code),
            status->message[0] ? status->message : "(no message)");
    return EXIT_CALL_FAILED;
}

/* Fills `t` from `in`: kind PURCHASE on channel IN_STORE, inbound, event id pos-<order>. */
static int build_purchase(const PurchaseInput *in, PurchaseTouchpoint *t) {
    memset(t, 0, sizeof *t);
    snprintf(t->event_id, sizeof t->event_id, "pos-%s", in->order_id);

    t->occurred_at = (Google__Protobuf__Timestamp)GOOGLE__PROTOBUF__TIMESTAMP__INIT;
    t->occurred_at.seconds = in->occurred_at_seconds;
    if (t->occurred_at.seconds == 0) {
        struct timespec now;
        if (timespec_get(&now, TIME_UTC) != TIME_UTC) return -1;
        t->occurred_at.seconds = (int64_t)now.tv_sec;
    }

    t->amount = (Customer360__V1__Money)CUSTOMER360__V1__MONEY__INIT;
    t->amount.amount_minor = in->amount_minor;
    t->amount.currency_code = in->currency;

    t->purchase = (Customer360__V1__Purchase)CUSTOMER360__V1__PURCHASE__INIT;
    t->purchase.order_id = in->order_id;
    t->purchase.amount = &t->amount;
    if (in->discount_code) t->purchase.discount_code = in->discount_code;
    if (in->n_items > 0) {
        t->items = calloc(in->n_items, sizeof *t->items);
        t->unit_prices = calloc(in->n_items, sizeof *t->unit_prices);
        t->item_pointers = calloc(in->n_items, sizeof *t->item_pointers);
        if (!t->items || !t->unit_prices || !t->item_pointers) return -1;
        for (size_t i = 0; i < in->n_items; i++) {
            t->unit_prices[i] = (Customer360__V1__Money)CUSTOMER360__V1__MONEY__INIT;
            t->unit_prices[i].amount_minor = in->items[i].unit_price_minor;
            t->unit_prices[i].currency_code = in->currency;
            t->items[i] = (Customer360__V1__PurchaseItem)CUSTOMER360__V1__PURCHASE_ITEM__INIT;
            t->items[i].sku = in->items[i].sku;
            t->items[i].quantity = in->items[i].quantity;
            t->items[i].unit_price = &t->unit_prices[i];
            if (in->items[i].name) t->items[i].name = in->items[i].name;
            t->item_pointers[i] = &t->items[i];
        }
        t->purchase.n_items = in->n_items;
        t->purchase.items = t->item_pointers;
    }

    t->touchpoint = (Customer360__V1__Touchpoint)CUSTOMER360__V1__TOUCHPOINT__INIT;
    t->touchpoint.event_id = t->event_id;
    t->touchpoint.customer_id = in->customer_id;
    t->touchpoint.occurred_at = &t->occurred_at;
    t->touchpoint.channel = CUSTOMER360__V1__CHANNEL__CHANNEL_IN_STORE;
    t->touchpoint.kind = CUSTOMER360__V1__TOUCHPOINT_KIND__TOUCHPOINT_KIND_PURCHASE;
    t->touchpoint.direction = CUSTOMER360__V1__TOUCHPOINT_DIRECTION__TOUCHPOINT_DIRECTION_INBOUND;
    t->touchpoint.purchase = &t->purchase;
    if (in->store) {
        t->store = (Customer360__V1__Touchpoint__AttributesEntry)CUSTOMER360__V1__TOUCHPOINT__ATTRIBUTES_ENTRY__INIT;
        t->store.key = (char *)"store";
        t->store.value = in->store;
        t->attributes[0] = &t->store;
        t->touchpoint.n_attributes = 1;
        t->touchpoint.attributes = t->attributes;
    }
    return 0;
}

static void free_purchase(PurchaseTouchpoint *t) {
    free(t->items);
    free(t->unit_prices);
    free(t->item_pointers);
}

static void print_account(const char *what, const Customer360__V1__LoyaltyAccount *account) {
    printf("%s customer %s: balance %" PRId64 " points, lifetime earned %" PRId64 ", tier %s\n", what,
           account->customer_id, account->balance, account->lifetime_earned, tier_name(account->tier));
}

/* ProfileService.EarnPoints; prints the account it answers. */
static int earn(GrpcChannel *channel, char *customer_id, int64_t points, char *reason, char *transaction_id) {
    Customer360__V1__EarnPointsRequest request = CUSTOMER360__V1__EARN_POINTS_REQUEST__INIT;
    request.customer_id = customer_id;
    request.points = points;
    request.reason = reason;
    if (transaction_id) request.transaction_id = transaction_id;
    const ProtobufCMessage *requests[] = {&request.base};
    ProtobufCMessage *answer = NULL;
    GrpcStatus status;
    if (grpc_call(channel, &customer360__v1__profile_service__descriptor, "EarnPoints", requests, 1, &answer,
                  &status) != GRPC_STATUS_OK) {
        return report_failure(&customer360__v1__profile_service__descriptor, "EarnPoints", &status);
    }
    if (transaction_id) {
        printf("transaction %s: %" PRId64 " points earned (applied once, however often sent)\n", transaction_id,
               points);
    } else {
        printf("earned %" PRId64 " points\n", points);
    }
    print_account("loyalty of", (const Customer360__V1__LoyaltyAccount *)answer);
    protobuf_c_message_free_unpacked(answer, NULL);
    return 0;
}

static int parse_item(char *text, ItemInput *item) {
    char *sku = text;
    char *quantity = strchr(sku, ':');
    if (!quantity) return -1;
    *quantity++ = '\0';
    char *price = strchr(quantity, ':');
    if (!price) return -1;
    *price++ = '\0';
    char *name = strchr(price, ':');
    if (name) *name++ = '\0';
    int64_t count, unit;
    if (!*sku || parse_integer(quantity, 1, INT32_MAX, &count) != 0 ||
        parse_integer(price, 0, INT64_MAX, &unit) != 0) {
        return -1;
    }
    item->sku = sku;
    item->quantity = (int32_t)count;
    item->unit_price_minor = unit;
    item->name = name;
    return 0;
}

static int command_purchase(GrpcChannel *channel, int argc, char **argv) {
    ItemInput items[MAX_ITEMS];
    PurchaseInput in = {.items = items};
    char *amount = NULL, *points_text = NULL, *at = NULL;
    for (int i = 0; i < argc; i++) {
        char *item = NULL;
        int matched;
        if ((matched = take_option(argc, argv, &i, "--customer", &in.customer_id)) ||
            (matched = take_option(argc, argv, &i, "--order", &in.order_id)) ||
            (matched = take_option(argc, argv, &i, "--amount-minor", &amount)) ||
            (matched = take_option(argc, argv, &i, "--currency", &in.currency)) ||
            (matched = take_option(argc, argv, &i, "--discount-code", &in.discount_code)) ||
            (matched = take_option(argc, argv, &i, "--store", &in.store)) ||
            (matched = take_option(argc, argv, &i, "--points", &points_text)) ||
            (matched = take_option(argc, argv, &i, "--at", &at))) {
            if (matched < 0) return usage_error("%s needs a value", argv[i]);
        } else if ((matched = take_option(argc, argv, &i, "--item", &item))) {
            if (matched < 0) return usage_error("%s needs a value", argv[i]);
            if (in.n_items == MAX_ITEMS) return usage_error("at most %s items", "50");
            if (parse_item(item, &items[in.n_items]) != 0) {
                return usage_error("--item wants SKU:QUANTITY:UNIT_PRICE_MINOR[:NAME], got \"%s\"", item);
            }
            in.n_items++;
        } else {
            return usage_error("purchase: unknown argument \"%s\"", argv[i]);
        }
    }
    if (!in.customer_id || !in.order_id || !amount || !in.currency) {
        return usage_error("purchase needs --customer, --order, --amount-minor and --currency%s", "");
    }
    if (parse_integer(amount, 0, INT64_MAX, &in.amount_minor) != 0) {
        return usage_error("--amount-minor wants a whole number of minor units (cents), got \"%s\"", amount);
    }
    int64_t points = 0;
    if (points_text && parse_integer(points_text, 1, INT64_MAX, &points) != 0) {
        return usage_error("--points wants a positive whole number, got \"%s\"", points_text);
    }
    if (at && parse_integer(at, 1, INT64_MAX, &in.occurred_at_seconds) != 0) {
        return usage_error("--at wants Unix seconds, got \"%s\"", at);
    }

    PurchaseTouchpoint t;
    if (build_purchase(&in, &t) != 0) {
        free_purchase(&t);
        fprintf(stderr, "pos: cannot build the purchase (out of memory or no clock)\n");
        return EXIT_CALL_FAILED;
    }
    Customer360__V1__RecordTouchpointRequest request = CUSTOMER360__V1__RECORD_TOUCHPOINT_REQUEST__INIT;
    request.customer_id = in.customer_id;
    request.touchpoint = &t.touchpoint;
    const ProtobufCMessage *requests[] = {&request.base};
    ProtobufCMessage *answer = NULL;
    GrpcStatus status;
    int code = grpc_call(channel, &customer360__v1__interaction_service__descriptor, "RecordTouchpoint", requests, 1,
                         &answer, &status);
    free_purchase(&t);
    if (code != GRPC_STATUS_OK) {
        return report_failure(&customer360__v1__interaction_service__descriptor, "RecordTouchpoint", &status);
    }
    const Customer360__V1__RecordTouchpointResponse *recorded = (const Customer360__V1__RecordTouchpointResponse *)answer;
    const char *stored_under = recorded->touchpoint ? recorded->touchpoint->customer_id : in.customer_id;
    if (recorded->duplicate) {
        printf("purchase pos-%s was already recorded for customer %s; nothing new stored\n", in.order_id,
               stored_under);
    } else {
        printf("recorded purchase pos-%s for customer %s: order %s, %" PRId64 " %s (minor units), %zu item(s), "
               "--at %" PRId64 "\n",
               in.order_id, stored_under, in.order_id, in.amount_minor, in.currency, in.n_items, t.occurred_at.seconds);
    }
    protobuf_c_message_free_unpacked(answer, NULL);
    if (points == 0) return 0;

    char reason[200], transaction_id[160];
    snprintf(reason, sizeof reason, "in-store order %s", in.order_id);
    snprintf(transaction_id, sizeof transaction_id, "pos-%s", in.order_id);
    return earn(channel, in.customer_id, points, reason, transaction_id);
}

static int command_earn(GrpcChannel *channel, int argc, char **argv) {
    char *customer = NULL, *points_text = NULL, *reason = NULL, *transaction = NULL;
    for (int i = 0; i < argc; i++) {
        int matched;
        if ((matched = take_option(argc, argv, &i, "--customer", &customer)) ||
            (matched = take_option(argc, argv, &i, "--points", &points_text)) ||
            (matched = take_option(argc, argv, &i, "--reason", &reason)) ||
            (matched = take_option(argc, argv, &i, "--transaction", &transaction))) {
            if (matched < 0) return usage_error("%s needs a value", argv[i]);
        } else {
            return usage_error("earn: unknown argument \"%s\"", argv[i]);
        }
    }
    int64_t points;
    if (!customer || !points_text) return usage_error("earn needs --customer and --points%s", "");
    if (parse_integer(points_text, 1, INT64_MAX, &points) != 0) {
        return usage_error("--points wants a positive whole number, got \"%s\"", points_text);
    }
    return earn(channel, customer, points, reason ? reason : (char *)"earned at the till", transaction);
}

static int command_balance(GrpcChannel *channel, int argc, char **argv) {
    char *customer = NULL;
    for (int i = 0; i < argc; i++) {
        int matched = take_option(argc, argv, &i, "--customer", &customer);
        if (matched < 0) return usage_error("%s needs a value", argv[i]);
        if (matched == 0) return usage_error("balance: unknown argument \"%s\"", argv[i]);
    }
    if (!customer) return usage_error("balance needs --customer%s", "");
    Customer360__V1__GetLoyaltyRequest request = CUSTOMER360__V1__GET_LOYALTY_REQUEST__INIT;
    request.customer_id = customer;
    const ProtobufCMessage *requests[] = {&request.base};
    ProtobufCMessage *answer = NULL;
    GrpcStatus status;
    if (grpc_call(channel, &customer360__v1__profile_service__descriptor, "GetLoyalty", requests, 1, &answer,
                  &status) != GRPC_STATUS_OK) {
        return report_failure(&customer360__v1__profile_service__descriptor, "GetLoyalty", &status);
    }
    print_account("loyalty of", (const Customer360__V1__LoyaltyAccount *)answer);
    protobuf_c_message_free_unpacked(answer, NULL);
    return 0;
}

/* The journal, parsed: one purchase per kept line, with the line number it came from. */
typedef struct {
    PurchaseInput *purchases;
    size_t *line_numbers;
    char **lines;
    size_t count;
    size_t capacity;
} Journal;

static void free_journal(Journal *journal) {
    for (size_t i = 0; i < journal->count; i++) free(journal->lines[i]);
    free(journal->purchases);
    free(journal->line_numbers);
    free(journal->lines);
}

/* Reads CUSTOMER_ID ORDER_ID AMOUNT_MINOR CURRENCY [UNIX_SECONDS] lines. Returns 0, or EXIT_USAGE after printing
 * which line is malformed. */
static int read_journal(FILE *file, const char *name, Journal *journal) {
    char buffer[1024];
    size_t line_number = 0;
    while (fgets(buffer, sizeof buffer, file)) {
        line_number++;
        size_t length = strlen(buffer);
        if (length == sizeof buffer - 1 && buffer[length - 1] != '\n') {
            fprintf(stderr, "pos: %s:%zu: line too long\n", name, line_number);
            return EXIT_USAGE;
        }
        char *line = copy_string(buffer);
        if (!line) return EXIT_CALL_FAILED;
        char *fields[6];
        size_t n_fields = 0;
        for (char *field = strtok(line, " \t\r\n"); field && n_fields < 6; field = strtok(NULL, " \t\r\n")) {
            fields[n_fields++] = field;
        }
        if (n_fields == 0 || fields[0][0] == '#') {
            free(line);
            continue;
        }
        PurchaseInput in = {0};
        if (n_fields < 4 || n_fields > 5 || parse_integer(fields[2], 0, INT64_MAX, &in.amount_minor) != 0 ||
            (n_fields == 5 && parse_integer(fields[4], 1, INT64_MAX, &in.occurred_at_seconds) != 0)) {
            fprintf(stderr, "pos: %s:%zu: want CUSTOMER_ID ORDER_ID AMOUNT_MINOR CURRENCY [UNIX_SECONDS]\n", name,
                    line_number);
            free(line);
            return EXIT_USAGE;
        }
        in.customer_id = fields[0];
        in.order_id = fields[1];
        in.currency = fields[3];
        if (journal->count == journal->capacity) {
            size_t capacity = journal->capacity ? journal->capacity * 2 : 64;
            PurchaseInput *purchases = realloc(journal->purchases, capacity * sizeof *purchases);
            if (purchases) journal->purchases = purchases;
            size_t *numbers = realloc(journal->line_numbers, capacity * sizeof *numbers);
            if (numbers) journal->line_numbers = numbers;
            char **lines = realloc(journal->lines, capacity * sizeof *lines);
            if (lines) journal->lines = lines;
            if (!purchases || !numbers || !lines) {
                free(line);
                return EXIT_CALL_FAILED;
            }
            journal->capacity = capacity;
        }
        journal->purchases[journal->count] = in;
        journal->line_numbers[journal->count] = line_number;
        journal->lines[journal->count] = line;
        journal->count++;
    }
    return ferror(file) ? EXIT_CALL_FAILED : 0;
}

/* InteractionService.RecordTouchpoints: the whole journal as one client stream, one message per purchase. */
static int command_upload(GrpcChannel *channel, int argc, char **argv) {
    if (argc > 1) return usage_error("upload takes at most one FILE%s", "");
    const char *name = argc == 1 ? argv[0] : "-";
    FILE *file = strcmp(name, "-") == 0 ? stdin : fopen(name, "r");
    if (!file) {
        fprintf(stderr, "pos: cannot open %s: %s\n", name, strerror(errno));
        return EXIT_USAGE;
    }
    Journal journal = {0};
    int result = read_journal(file, strcmp(name, "-") == 0 ? "stdin" : name, &journal);
    if (file != stdin) fclose(file);
    if (result != 0 || journal.count == 0) {
        if (result == 0) printf("nothing to upload\n");
        free_journal(&journal);
        return result;
    }

    PurchaseTouchpoint *touchpoints = calloc(journal.count, sizeof *touchpoints);
    Customer360__V1__RecordTouchpointsRequest *messages = calloc(journal.count, sizeof *messages);
    const ProtobufCMessage **requests = calloc(journal.count, sizeof *requests);
    int built = touchpoints && messages && requests;
    for (size_t i = 0; built && i < journal.count; i++) {
        built = build_purchase(&journal.purchases[i], &touchpoints[i]) == 0;
        messages[i] = (Customer360__V1__RecordTouchpointsRequest)CUSTOMER360__V1__RECORD_TOUCHPOINTS_REQUEST__INIT;
        messages[i].customer_id = journal.purchases[i].customer_id;
        messages[i].touchpoint = &touchpoints[i].touchpoint;
        requests[i] = &messages[i].base;
    }
    ProtobufCMessage *answer = NULL;
    GrpcStatus status = {.code = GRPC_STATUS_RESOURCE_EXHAUSTED, .message = "out of memory"};
    int code = built ? grpc_call(channel, &customer360__v1__interaction_service__descriptor, "RecordTouchpoints",
                                 requests, journal.count, &answer, &status)
                     : GRPC_STATUS_RESOURCE_EXHAUSTED;
    if (code != GRPC_STATUS_OK) {
        result = report_failure(&customer360__v1__interaction_service__descriptor, "RecordTouchpoints", &status);
    } else {
        const Customer360__V1__RecordTouchpointsResponse *counts = (Customer360__V1__RecordTouchpointsResponse *)answer;
        printf("uploaded %zu purchase(s): received %" PRId64 ", stored %" PRId64 ", duplicate %" PRId64
               ", rejected %" PRId64 "\n",
               journal.count, counts->received, counts->stored, counts->duplicate, counts->rejected);
        for (size_t i = 0; i < counts->n_rejections; i++) {
            const Customer360__V1__TouchpointRejection *rejection = counts->rejections[i];
            size_t index = (size_t)rejection->index;
            printf("rejected line %zu (%s): %s%s%s: %s\n",
                   index < journal.count ? journal.line_numbers[index] : 0, rejection->event_id, rejection->code,
                   rejection->field[0] ? " " : "", rejection->field, rejection->reason);
        }
        result = counts->rejected > 0 ? EXIT_CALL_FAILED : 0;
        protobuf_c_message_free_unpacked(answer, NULL);
    }
    for (size_t i = 0; touchpoints && i < journal.count; i++) free_purchase(&touchpoints[i]);
    free(touchpoints);
    free(messages);
    free(requests);
    free_journal(&journal);
    return result;
}

/* The first line of a key file, without surrounding white space. */
static char *read_key_file(const char *path) {
    FILE *file = fopen(path, "r");
    if (!file) return NULL;
    char buffer[512];
    char *line = fgets(buffer, sizeof buffer, file);
    fclose(file);
    if (!line) return NULL;
    size_t start = strspn(buffer, " \t");
    size_t end = strlen(buffer);
    while (end > start && strchr(" \t\r\n", buffer[end - 1])) end--;
    buffer[end] = '\0';
    return copy_string(buffer + start);
}

/* Adds "NAME: VALUE" as metadata. */
static int add_header_line(GrpcChannel *channel, const char *header) {
    const char *colon = strchr(header, ':');
    if (!colon || colon == header) return -1;
    char name[128];
    size_t length = (size_t)(colon - header);
    if (length >= sizeof name) return -1;
    memcpy(name, header, length);
    name[length] = '\0';
    const char *value = colon + 1;
    while (*value == ' ' || *value == '\t') value++;
    return grpc_channel_add_metadata(channel, name, value);
}

int main(int argc, char **argv) {
    GlobalOptions options = {.gateway = getenv("C360_GATEWAY"), .api_key = getenv("C360_API_KEY"),
                             .timeout_ms = 10000};
    int i = 1;
    for (; i < argc && strncmp(argv[i], "--", 2) == 0; i++) {
        char *value = NULL;
        int matched;
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            fputs(usage_text, stdout);
            return 0;
        }
        if (strcmp(argv[i], "--verbose") == 0) {
            options.verbose = 1;
        } else if ((matched = take_option(argc, argv, &i, "--gateway", &value))) {
            if (matched < 0) return usage_error("%s needs a value", argv[i]);
            options.gateway = value;
        } else if ((matched = take_option(argc, argv, &i, "--api-key", &value))) {
            if (matched < 0) return usage_error("%s needs a value", argv[i]);
            options.api_key = value;
        } else if ((matched = take_option(argc, argv, &i, "--api-key-file", &value))) {
            if (matched < 0) return usage_error("%s needs a value", argv[i]);
            options.api_key_file = value;
        } else if ((matched = take_option(argc, argv, &i, "--header", &value))) {
            if (matched < 0) return usage_error("%s needs a value", argv[i]);
            if (options.n_headers == MAX_HEADERS) return usage_error("at most %s --header options", "16");
            options.headers[options.n_headers++] = value;
        } else if ((matched = take_option(argc, argv, &i, "--timeout", &value))) {
            int64_t seconds;
            if (matched < 0 || parse_integer(value, 1, 3600, &seconds) != 0) {
                return usage_error("--timeout wants whole seconds, 1 to 3600%s", "");
            }
            options.timeout_ms = (long)seconds * 1000L;
        } else {
            return usage_error("unknown option \"%s\"", argv[i]);
        }
    }
    if (i >= argc) return usage_error("no command given%s", "");
    const char *command = argv[i++];
    if (strcmp(command, "help") == 0) {
        fputs(usage_text, stdout);
        return 0;
    }
    int (*run)(GrpcChannel *, int, char **) = NULL;
    if (strcmp(command, "purchase") == 0) run = command_purchase;
    else if (strcmp(command, "earn") == 0) run = command_earn;
    else if (strcmp(command, "balance") == 0) run = command_balance;
    else if (strcmp(command, "upload") == 0) run = command_upload;
    else return usage_error("unknown command \"%s\"", command);

    char *key_from_file = NULL;
    if (options.api_key_file) {
        key_from_file = read_key_file(options.api_key_file);
        if (!key_from_file) {
            fprintf(stderr, "pos: cannot read an API key from %s\n", options.api_key_file);
            return EXIT_USAGE;
        }
        options.api_key = key_from_file;
    }
    GrpcChannel *channel =
        grpc_channel_open(options.gateway && *options.gateway ? options.gateway : DEFAULT_GATEWAY, options.timeout_ms);
    if (!channel) {
        free(key_from_file);
        fprintf(stderr, "pos: cannot set up HTTP/2 with libcurl\n");
        return EXIT_CALL_FAILED;
    }
    grpc_channel_set_verbose(channel, options.verbose);
    int result = 0;
    if (options.api_key && *options.api_key) {
        char bearer[600];
        snprintf(bearer, sizeof bearer, "Bearer %s", options.api_key);
        if (strlen(options.api_key) > 500 || grpc_channel_add_metadata(channel, "authorization", bearer) != 0) {
            result = usage_error("the API key is not a valid header value%s", "");
        }
    }
    for (size_t h = 0; result == 0 && h < options.n_headers; h++) {
        if (add_header_line(channel, options.headers[h]) != 0) {
            result = usage_error("--header wants 'NAME: VALUE' (printable ASCII), got \"%s\"", options.headers[h]);
        }
    }
    if (result == 0) result = run(channel, argc - i, argv + i);
    grpc_channel_close(channel);
    free(key_from_file);
    return result;
}
