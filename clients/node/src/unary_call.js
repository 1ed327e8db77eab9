'use strict';
const grpc = require('@grpc/grpc-js');

// Calls the unary method `method` of a grpc-js client `stub` and resolves
// with the response, or rejects with grpc-js's error (it carries `code`, a
// grpc.status value, and `details`, the server's message).
function unaryCall(stub, method, request, { metadata = new grpc.Metadata(), deadlineSeconds }) {
  if (typeof stub[method] !== 'function') {
    return Promise.reject(new TypeError(`the stub has no method ${method}`));
  }
  return new Promise((resolve, reject) => {
    const deadline = new Date(Date.now() + deadlineSeconds * 1000);
    stub[method](request, metadata, { deadline }, (error, response) => {
      if (error) reject(error);
      else resolve(response);
    });
  });
}

module.exports = { unaryCall };
