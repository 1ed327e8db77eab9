#pragma once

#include <grpcpp/impl/service_type.h>

#include <cstdint>

namespace tollgate {

// SPEC section 3: a request whose body does not decode as the method's
// request message (bytes that are not the message, a truncated field, invalid
// UTF-8 in a proto3 string field) is answered INVALID_ARGUMENT with exactly
// this message, counted in UndecodableRequestsTotal(), and not logged.
inline constexpr char kUndecodableRequestMessage[] = "request could not be decoded";

// Makes every callback-API method of `service` that takes a request message
// (unary and server-streaming) answer an undecodable request with
// INVALID_ARGUMENT kUndecodableRequestMessage, and count it. Also installs
// the protobuf log filter (InstallProtobufLogFilter) once per process. Call
// it after constructing `service` and before BuildAndStart of the server that
// serves it; calling it again on the same service changes nothing. Other
// methods (sync, async, raw, client- and bidi-streaming) are left alone.
//
// Why and how: gRPC 1.51's callback handlers never call the method when the
// request fails to deserialize; they finish the call with UNIMPLEMENTED and
// an empty message (server_callback_handlers.h, CallbackUnaryHandler::
// RunHandler), and with no interceptor on the call (an admitted call runs
// without one, see AuthInterceptorFactory) nothing can change that status.
// So each such method's gRPC handler is wrapped: the wrapper sees the failed
// deserialization before the handler runs, cancels the call with the status
// above (grpc_call_cancel_with_status: the client gets exactly that code and
// message) and lets gRPC's own failure path end the call, which never runs
// the method and releases the request message. Reaching the handler list
// takes one access to a private member of grpc::Service (methods_, by the
// explicit-instantiation rule); request_decoding_test pins the behaviour on
// the gRPC version we build with.
//
// Auth wins: a call the AuthInterceptor refused keeps its refusal (code,
// message, `www-authenticate` trailer) whatever its body is, so an
// unauthenticated caller learns nothing about the method's message; such a
// call is not counted here. A public method called without a token is
// admitted, so its undecodable requests get INVALID_ARGUMENT.
//
// Client-streaming and bidi methods read their messages in the reactor: a
// message that fails to decode ends the reads as OnReadDone(false), which
// gRPC 1.51 does not tell apart from the client half-closing. Not covered.
void AnswerUndecodableRequests(grpc::Service& service);

// Requests answered INVALID_ARGUMENT kUndecodableRequestMessage since the
// process started, on all servers of the process. Thread-safe.
uint64_t UndecodableRequestsTotal();

// Replaces protobuf's log handler (google::protobuf::SetLogHandler) with one
// that drops libprotobuf's "String field '...' contains invalid UTF-8 data
// when parsing a protocol buffer" ERROR line, which every such request would
// otherwise write to stderr (anyone could fill the log), and forwards every
// other message to the handler that was installed before (protobuf's
// default writes it to stderr). The dropped lines are counted in
// DroppedProtobufUtf8ParseLogsTotal(); a request they belong to is counted
// in UndecodableRequestsTotal() when it is answered. Runs once per process
// (later calls do nothing); AnswerUndecodableRequests calls it, so both
// servers install it at start-up, before serving.
void InstallProtobufLogFilter();

// libprotobuf UTF-8 parse error lines the filter dropped. Thread-safe.
uint64_t DroppedProtobufUtf8ParseLogsTotal();

}  // namespace tollgate
