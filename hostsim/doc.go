// Package hostsim is a proxy-wasm host built on wazero that behaves like Envoy, so proxy-wasm guests (Go
// wasip1 reactors first, any ABI 0.2.x module in general) can be tested and run without Envoy.
//
// A Runtime compiles modules once per process (identical bytes are compiled once; NewRuntimeWithCacheDir also
// keeps them on disk for the next process); a Host runs one plugin
// configuration on one or more worker VMs (Envoy runs one VM per worker thread) that share metrics and shared
// data; a Stream is one HTTP stream through the plugin with Envoy's filter semantics:
//
//	rt, _ := hostsim.NewRuntime(ctx)
//	mod, _ := rt.Load(ctx, wasm)
//	h, _ := hostsim.NewHost(ctx, mod, hostsim.Options{Workers: 2, Clusters: clusters})
//	res, err := h.Do(ctx, hostsim.Request{Headers: hdrs, Body: body}, upstream)
//
// Every guest call of a VM is serialized by that VM's lock, so streams, dispatch responses, ticks and queue
// notifications may be driven from any goroutine; work Envoy defers until the running VM call returns
// (continue, close, local reply, dispatch callbacks) is deferred the same way. Each worker has a queue of
// posted events (Envoy's dispatcher post) that the goroutine holding the VM runs before releasing it: dispatch
// answers of a Cluster.Inline handler (no goroutine: the dispatching Stream call returns after the callback),
// queue notifications for a registrant on the enqueuing worker, and answers or notifications arriving from
// other goroutines while the worker is busy. A VirtualClock makes ticks and
// dispatch timeouts fire only when a test advances it. WaitIdle returns as soon as the last dispatch or queue
// notification has been delivered; MemorySize reports a worker's guest linear memory; histograms keep
// counts, sums and Envoy's default buckets over every value and the last MaxHistogramSamples samples.
//
// Cost (BenchmarkHostCall, BenchmarkEmptyGuest): a host call the guest makes costs about 70 ns (wazero's own
// Go-function call is about 35 ns of it); returning a value adds the guest's proxy_on_memory_allocate, about
// 180 ns of guest-side allocation; a whole empty-guest request lifecycle (six guest calls) about 1.3 µs, with
// one host allocation (the Stream).
//
// What is modelled (from the team's Envoy host notes): Envoy's WASI answers (stdio fd_fdstat_get,
// fd_write to the log, no preopens, environment only from the VM configuration, poll_oneoff ENOSYS for
// EnvoyVersion 1.33–1.38); export checks at load; copy-out without allocation for empty values; start
// sequence per root with optional canary; the stream callback order (on_log before on_done); cumulative body
// buffering; both header-pause behaviours; header-map availability; deferred continue/close/local reply with
// the plugin seeing its own reply; properties with Envoy encodings; dispatch tokens, Envoy-made 503/504 and
// resets; ticks per root; metrics; shared data with CAS and queues; failed VMs (503 wasm_fail_stream or
// fail-open).
//
// Known simplifications: proc_exit ends the guest call at once (Envoy logs it and returns, and the Go guest
// then traps, with the same result: a failed VM); the WASI whitelists Envoy applies during _initialize and
// proxy_on_memory_allocate are not enforced; whole protobuf properties (xds.node) answer
// SerializationFailure, their string fields work; gRPC calls answer Unimplemented; a local reply after the
// response headers were forwarded resets the stream; roots whose on_done returns false at shutdown are not
// deleted (proxy_done answers NotFound); proxy_on_queue_ready for a registrant on another worker is posted
// from a pool goroutine, so it may run after that worker's next event (on the enqueuing worker it runs right
// after the enqueuing call, as in Envoy).
package hostsim
