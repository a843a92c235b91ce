package main

// headerMap is a proxy-wasm header map type.
type headerMap uint32

// Header maps the plugin reads one value from.
const (
	requestHeaders      headerMap = 0 // the stream's request headers
	callResponseHeaders headerMap = 6 // a dispatch's response headers (in its callback)
)

// headerReader reads single header values; its fields are the host call's
// out-parameters, reused from call to call.
type headerReader struct {
	data *byte
	size int32
}
