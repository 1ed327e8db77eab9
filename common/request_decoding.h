#pragma once

#include <google/protobuf/message_lite.h>
#include <grpcpp/impl/service_type.h>
#include <grpcpp/support/server_callback.h>
#include <grpcpp/support/status.h>

#include <atomic>
#include <cstdint>
#include <utility>

#include "common/server/call_pipeline.h"

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
// without one, see CallPipeline) nothing can change that status.
// So each such method's gRPC handler is wrapped: the wrapper sees the failed
// deserialization before the handler runs, cancels the call with the status
// above (grpc_call_cancel_with_status: the client gets exactly that code and
// message) and lets gRPC's own failure path end the call, which never runs
// the method and releases the request message. Reaching the handler list
// takes one access to a private member of grpc::Service (methods_, by the
// explicit-instantiation rule); request_decoding_test pins the behaviour on
// the gRPC version we build with.
//
// Auth wins: a call the call pipeline refused keeps its refusal (code,
// message, `www-authenticate` trailer) whatever its body is, so an
// unauthenticated caller learns nothing about the method's message; such a
// call is not counted here. A public method called without a token is
// admitted, so its undecodable requests get INVALID_ARGUMENT.
//
// Client-streaming and bidi methods are left to their reactors: see
// DecodeCheckingReadReactor below for why this wrapper cannot cover them.
void AnswerUndecodableRequests(grpc::Service& service);

// Requests answered INVALID_ARGUMENT kUndecodableRequestMessage since the
// process started, on all servers of the process. Thread-safe.
uint64_t UndecodableRequestsTotal();

// ---- Client-streaming and bidi methods ----
//
// gRPC 1.51 reports a streamed message that fails to decode exactly as it
// reports the end of the stream: the read completes with OnReadDone(false)
// (CallOpRecvMessage::FinishOp turns the failed Deserialize into
// got_message = false, status = false, the same as no message at the
// client's half-close), and the call goes on. A reactor that takes `false`
// for the half-close answers OK with what it read so far: SumStream would
// return the partial sum. Nothing outside the reactor can fix that:
//  - the reads are issued after the method handler ran, by the typed reader
//    gRPC keeps private (CallbackClientStreamingHandler<Req, Resp>::
//    ServerCallbackReaderImpl), through a type-erased CallOpSetInterface,
//    so a wrapped MethodHandler like the one above never sees a read, its
//    buffer or its message;
//  - a server interceptor sees the read at POST_RECV_MESSAGE, but with
//    GetRecvMessage() == nullptr in both cases (before the read it gets the
//    message only as a void*), and an admitted call runs without any
//    interceptor (CallPipeline's fast path);
//  - whatever cancelled the call, the reactor would still get
//    OnReadDone(false) and run its end-of-stream business logic (SumStream
//    would count the call as usage).
// What does differ is the reactor's request message: gRPC decodes with
// MessageLite::ParseFromZeroCopyStream, which clears the message before it
// parses, and leaves it untouched when no message came. So the reactor
// marks the message before each read (MarkUnread) and, on a failed read,
// asks whether it was cleared (ReadFailedToDecode). Reactors do this by
// deriving from DecodeCheckingReadReactor (client streaming); a bidi
// reactor uses the two functions the same way.

// Puts a mark in `request` (one unknown field holding a value random per
// process) that any decoding attempt into it removes. Call it right before
// each StartRead(&request).
void MarkUnread(google::protobuf::MessageLite& request);

// For a read into `request`, marked by MarkUnread, that ended with
// ok == false: true when gRPC received a message and could not decode it
// into `request`; false when no message came (the client half-closed, or
// the call ended). Does not count.
bool ReadFailedToDecode(const google::protobuf::MessageLite& request);

// Counts one undecodable request (UndecodableRequestsTotal) and returns
// INVALID_ARGUMENT kUndecodableRequestMessage, the status to finish with.
grpc::Status CountUndecodableRequest();

// A callback-API client-streaming reactor whose reads tell an undecodable
// message from the end of the stream. On an undecodable message it finishes
// the call with INVALID_ARGUMENT kUndecodableRequestMessage (counted once;
// no response message: a non-OK Finish drops it) and reads nothing more;
// the derived reactor is not told, so its business logic never takes the
// failure for a complete stream. Every other read completion goes to
// OnCheckedReadDone, with OnReadDone's meaning: true, a message was decoded
// into the request; false, the client half-closed or the call ended.
//
// StartRead and Finish hide ServerReadReactor's: reads must be started
// through this class (not through a ServerReadReactor pointer), so that the
// request is marked, and the first Finish of the call wins (a later one,
// this class's own included, does nothing), so a message that fails to
// decode after the reactor finished early is neither answered nor counted.
// One read at a time, as gRPC requires. After OnCheckedReadDone(false) the
// request holds the mark, not the last message read.
//
// Limit: gRPC fails the read without trying to decode when it cannot even
// open the received buffer (ProtoBufferReader's "Couldn't initialize byte
// buffer reader"); that message looks unread and is taken for the end of
// the stream. The core decompresses messages before they reach it, so this
// does not happen for well-formed calls.
//
// `context` (the call's): when given, every status the reactor finishes
// with is reported to the call pipeline (ReportCallStatus).
template <typename Request>
class DecodeCheckingReadReactor : public grpc::ServerReadReactor<Request> {
 public:
  explicit DecodeCheckingReadReactor(grpc::ServerContextBase* context = nullptr)
      : context_(context) {}

  void StartRead(Request* request) {
    MarkUnread(*request);
    reading_ = request;
    grpc::ServerReadReactor<Request>::StartRead(request);
  }

  void Finish(grpc::Status status) {
    if (finished_.exchange(true)) return;
    if (context_ != nullptr) ReportCallStatus(context_, status);
    grpc::ServerReadReactor<Request>::Finish(std::move(status));
  }

  void OnReadDone(bool ok) final {
    if (!ok && reading_ != nullptr && ReadFailedToDecode(*reading_)) {
      reading_ = nullptr;
      if (!finished_.exchange(true)) {
        grpc::Status undecodable = CountUndecodableRequest();
        if (context_ != nullptr) ReportCallStatus(context_, undecodable);
        grpc::ServerReadReactor<Request>::Finish(std::move(undecodable));
      }
      return;
    }
    OnCheckedReadDone(ok);
  }

 protected:
  virtual void OnCheckedReadDone(bool ok) = 0;

 private:
  grpc::ServerContextBase* const context_;
  Request* reading_ = nullptr;  // the message of the read in flight
  std::atomic<bool> finished_{false};
};

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
