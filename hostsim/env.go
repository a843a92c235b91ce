package hostsim

import (
	"context"
	"math"
	"strings"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
)

// hostFunc is one import of the "env" module; it returns a proxy-wasm status.
type hostFunc struct {
	name   string
	params []api.ValueType
	fn     func(v *vm, p []uint64) uint32
}

func params(n int) []api.ValueType {
	out := make([]api.ValueType, n)
	for i := range out {
		out[i] = api.ValueTypeI32
	}
	return out
}

// envFunctions is every env import of ABI 0.2.x that the Go SDK (and Envoy) provide (HOSTABI §1.3).
func envFunctions() []hostFunc {
	return []hostFunc{
		{"proxy_log", params(3), hostLog},
		{"proxy_get_log_level", params(1), hostGetLogLevel},
		{"proxy_get_status", params(3), hostGetStatus},
		{"proxy_set_tick_period_milliseconds", params(1), hostSetTickPeriod},
		{"proxy_get_current_time_nanoseconds", params(1), hostCurrentTime},
		{"proxy_set_effective_context", params(1), hostSetEffectiveContext},
		{"proxy_done", nil, hostDone},
		{"proxy_call_foreign_function", params(6), hostCallForeign},
		{"proxy_get_property", params(4), hostGetProperty},
		{"proxy_set_property", params(4), hostSetProperty},
		{"proxy_send_local_response", params(8), hostSendLocalResponse},
		{"proxy_continue_stream", params(1), hostContinueStream},
		{"proxy_close_stream", params(1), hostCloseStream},
		{"proxy_continue_request", nil, func(v *vm, _ []uint64) uint32 { return streamAction(v, actContinue, 0) }},
		{"proxy_continue_response", nil, func(v *vm, _ []uint64) uint32 { return streamAction(v, actContinue, 1) }},
		{"proxy_get_header_map_value", params(5), hostGetHeaderMapValue},
		{"proxy_get_header_map_pairs", params(3), hostGetHeaderMapPairs},
		{"proxy_get_header_map_size", params(2), hostGetHeaderMapSize},
		{"proxy_add_header_map_value", params(5), hostAddHeaderMapValue},
		{"proxy_replace_header_map_value", params(5), hostReplaceHeaderMapValue},
		{"proxy_remove_header_map_value", params(3), hostRemoveHeaderMapValue},
		{"proxy_set_header_map_pairs", params(3), hostSetHeaderMapPairs},
		{"proxy_get_buffer_bytes", params(5), hostGetBufferBytes},
		{"proxy_get_buffer_status", params(3), hostGetBufferStatus},
		{"proxy_set_buffer_bytes", params(5), hostSetBufferBytes},
		{"proxy_http_call", params(10), hostHTTPCall},
		{"proxy_get_shared_data", params(5), hostGetSharedData},
		{"proxy_set_shared_data", params(5), hostSetSharedData},
		{"proxy_register_shared_queue", params(3), hostRegisterQueue},
		{"proxy_resolve_shared_queue", params(5), hostResolveQueue},
		{"proxy_dequeue_shared_queue", params(3), hostDequeue},
		{"proxy_enqueue_shared_queue", params(3), hostEnqueue},
		{"proxy_define_metric", params(4), hostDefineMetric},
		{"proxy_increment_metric", []api.ValueType{i32, i64}, hostIncrementMetric},
		{"proxy_record_metric", []api.ValueType{i32, i64}, hostRecordMetric},
		{"proxy_get_metric", params(2), hostGetMetric},
		{"proxy_grpc_call", params(12), unimplemented},
		{"proxy_grpc_stream", params(9), unimplemented},
		{"proxy_grpc_send", params(4), unimplemented},
		{"proxy_grpc_cancel", params(1), unimplemented},
		{"proxy_grpc_close", params(1), unimplemented},
	}
}

func unimplemented(*vm, []uint64) uint32 { return statusUnimplemented }

// envNames is the set of env imports hostsim provides.
var envNames = func() map[string]bool {
	m := map[string]bool{}
	for _, f := range envFunctions() {
		m[f.name] = true
	}
	return m
}()

// provided reports whether hostsim registers the import module.name.
func provided(module, name string) bool {
	switch module {
	case "env":
		return envNames[name]
	case "wasi_snapshot_preview1", "wasi_unstable":
		_, ok := wasiSignatures[name]
		return ok
	}
	return false
}

// instantiateEnv registers the env host module in rt.
func instantiateEnv(ctx context.Context, rt wazero.Runtime) error {
	b := rt.NewHostModuleBuilder("env")
	for _, f := range envFunctions() {
		fn := f.fn
		b.NewFunctionBuilder().WithGoModuleFunction(api.GoModuleFunc(func(ctx context.Context, _ api.Module, stack []uint64) {
			v := vmFrom(ctx)
			if v == nil {
				stack[0] = statusInternalFailure
				return
			}
			stack[0] = uint64(fn(v, stack))
		}), f.params, []api.ValueType{api.ValueTypeI32}).Export(f.name)
	}
	_, err := b.Instantiate(ctx)
	return err
}

func u32(x uint64) uint32 { return uint32(x) }

func hostLog(v *vm, p []uint64) uint32 {
	level := u32(p[0])
	if level > uint32(LogCritical) {
		return statusBadArgument
	}
	msg, ok := v.readString(u32(p[1]), u32(p[2]))
	if !ok {
		return statusInvalidMemoryAccess
	}
	v.host.log(v.index, LogLevel(level), msg)
	return statusOK
}

func hostGetLogLevel(v *vm, p []uint64) uint32 {
	if !v.mem.WriteUint32Le(u32(p[0]), uint32(v.host.opts.LogLevel)) {
		return statusInvalidMemoryAccess
	}
	return statusOK
}

func hostGetStatus(v *vm, p []uint64) uint32 {
	// The status of the last http call failure; hostsim reports Ok with no message.
	if !v.mem.WriteUint32Le(u32(p[0]), 0) {
		return statusInvalidMemoryAccess
	}
	return v.writeOut(u32(p[1]), u32(p[2]), 0, 0)
}

func hostCurrentTime(v *vm, p []uint64) uint32 {
	if !v.mem.WriteUint64Le(u32(p[0]), uint64(v.host.clock.Now().UnixNano())) {
		return statusInvalidMemoryAccess
	}
	return statusOK
}

func hostSetTickPeriod(v *vm, p []uint64) uint32 {
	r := v.rootFor()
	if r == nil {
		return statusBadArgument
	}
	v.setTick(r, u32(p[0]))
	return statusOK
}

func hostSetEffectiveContext(v *vm, p []uint64) uint32 {
	id := u32(p[0])
	if _, ok := v.roots[id]; ok {
		v.effective, v.estream = id, nil
		return statusOK
	}
	s := v.liveStream(id)
	if s == nil {
		return statusBadArgument
	}
	v.effective, v.estream = id, s
	return statusOK
}

func hostDone(v *vm, _ []uint64) uint32 { return statusNotFound }

func hostCallForeign(v *vm, p []uint64) uint32 {
	name, ok := v.readString(u32(p[0]), u32(p[1]))
	if !ok {
		return statusInvalidMemoryAccess
	}
	switch name {
	case "clear_route_cache":
		return v.writeOut(u32(p[4]), u32(p[5]), 0, 0)
	}
	return statusNotFound
}

func hostSendLocalResponse(v *vm, p []uint64) uint32 {
	s := v.streamFor()
	if s == nil {
		return statusNotFound
	}
	details, ok1 := v.readString(u32(p[1]), u32(p[2]))
	body, ok2 := v.read(u32(p[3]), u32(p[4]))
	hdr, ok3 := v.read(u32(p[5]), u32(p[6]))
	if !ok1 || !ok2 || !ok3 {
		return statusInvalidMemoryAccess
	}
	headers := DecodePairs(hdr)
	for i := range headers {
		headers[i][0] = lowerASCII(headers[i][0])
	}
	details = strings.Map(func(r rune) rune {
		if r == ' ' || r == '\t' || r == '\n' || r == '\r' {
			return '_'
		}
		return r
	}, details)
	reply := &LocalReply{Status: int(u32(p[0])), Headers: headers, Body: append([]byte(nil), body...), Details: details}
	if s.pendingReply != nil || s.reply != nil {
		v.host.log(v.index, LogWarn, "proxy_send_local_response called again on a stream that already has a local reply (Envoy may hang the client, envoy#28826); ignored")
		return statusOK
	}
	s.pendingReply = reply
	v.after = append(v.after, afterAction{stream: s, kind: actLocalReply})
	return statusOK
}

func streamAction(v *vm, kind uint8, dir int) uint32 {
	s := v.streamFor()
	if s == nil {
		return statusNotFound
	}
	v.after = append(v.after, afterAction{stream: s, kind: kind, dir: dir})
	return statusOK
}

func hostContinueStream(v *vm, p []uint64) uint32 {
	switch u32(p[0]) {
	case 0, 1:
		return streamAction(v, actContinue, int(u32(p[0])))
	case 2:
		return statusOK
	case 3:
		return statusUnimplemented
	}
	return statusBadArgument
}

func hostCloseStream(v *vm, p []uint64) uint32 {
	switch u32(p[0]) {
	case 0, 1:
		return streamAction(v, actClose, int(u32(p[0])))
	case 2, 3:
		return statusOK
	}
	return statusBadArgument
}

// Header maps.

// headerMapKey resolves the map (p[0]) and key (p[1], p[2]) arguments shared by
// get_ and remove_header_map_value.
func headerMapKey(v *vm, p []uint64, write bool) (*Headers, []byte, uint32) {
	m, st := v.headerMap(u32(p[0]), write)
	if st != statusOK {
		return nil, nil, st
	}
	key, ok := v.read(u32(p[1]), u32(p[2]))
	if !ok {
		return nil, nil, statusInvalidMemoryAccess
	}
	return m, key, statusOK
}

func hostGetHeaderMapValue(v *vm, p []uint64) uint32 {
	m, key, st := headerMapKey(v, p, false)
	if st != statusOK {
		return st
	}
	for _, kv := range *m {
		if equalKey(kv[0], key) {
			return v.copyOutString(kv[1], u32(p[3]), u32(p[4]))
		}
	}
	return statusNotFound
}

func hostGetHeaderMapPairs(v *vm, p []uint64) uint32 {
	m, st := v.headerMap(u32(p[0]), false)
	if st == statusBadArgument && u32(p[0]) <= 7 {
		return v.writeOut(u32(p[1]), u32(p[2]), 0, 0)
	}
	if st != statusOK {
		return st
	}
	return v.copyOutPairs(*m, u32(p[1]), u32(p[2]))
}

func hostGetHeaderMapSize(v *vm, p []uint64) uint32 {
	m, st := v.headerMap(u32(p[0]), false)
	if st != statusOK {
		return st
	}
	if !v.mem.WriteUint32Le(u32(p[1]), uint32(pairsSize(*m))) {
		return statusInvalidMemoryAccess
	}
	return statusOK
}

// readKV reads the key (p[1], p[2]) and value (p[3], p[4]) of an add or
// replace. The key is lower-cased; when m already holds it, the stored string
// is reused instead of a new copy.
func readKV(v *vm, m Headers, p []uint64) (key, value string, ok bool) {
	k, ok1 := v.read(u32(p[1]), u32(p[2]))
	val, ok2 := v.readString(u32(p[3]), u32(p[4]))
	if !ok1 || !ok2 {
		return "", "", false
	}
	for _, kv := range m {
		if equalKey(kv[0], k) {
			return kv[0], val, true
		}
	}
	return lowerASCII(string(k)), val, true
}

func hostAddHeaderMapValue(v *vm, p []uint64) uint32 {
	return setHeaderMapValue(v, p, appendHeader)
}

func hostReplaceHeaderMapValue(v *vm, p []uint64) uint32 {
	return setHeaderMapValue(v, p, replaceHeader)
}

// setHeaderMapValue is add/replace_header_map_value: set applies the
// (lower-cased) key and value to the writable map named by p[0].
func setHeaderMapValue(v *vm, p []uint64, set func(h Headers, key, value string) Headers) uint32 {
	m, st := v.headerMap(u32(p[0]), true)
	if st != statusOK {
		return st
	}
	k, val, ok := readKV(v, *m, p)
	if !ok {
		return statusInvalidMemoryAccess
	}
	*m = set(*m, k, val)
	v.headersChanged(u32(p[0]))
	return statusOK
}

// appendHeader adds another entry for key (Envoy's addCopy).
func appendHeader(h Headers, key, value string) Headers {
	return append(h, [2]string{key, value})
}

// replaceHeader sets key to value: the first entry is replaced, later ones removed, or it is appended.
func replaceHeader(h Headers, key, value string) Headers {
	found := false
	out := h[:0]
	for _, kv := range h {
		if kv[0] == key {
			if found {
				continue
			}
			found = true
			kv[1] = value
		}
		out = append(out, kv)
	}
	if !found {
		out = append(out, [2]string{key, value})
	}
	return out
}

func hostRemoveHeaderMapValue(v *vm, p []uint64) uint32 {
	m, key, st := headerMapKey(v, p, true)
	if st != statusOK {
		return st
	}
	out := (*m)[:0]
	for _, kv := range *m {
		if !equalKey(kv[0], key) {
			out = append(out, kv)
		}
	}
	*m = out
	v.headersChanged(u32(p[0]))
	return statusOK
}

func hostSetHeaderMapPairs(v *vm, p []uint64) uint32 {
	m, st := v.headerMap(u32(p[0]), true)
	if st != statusOK {
		return st
	}
	b, ok := v.read(u32(p[1]), u32(p[2]))
	if !ok {
		return statusInvalidMemoryAccess
	}
	pairs := DecodePairs(b)
	for i := range pairs {
		pairs[i][0] = lowerASCII(pairs[i][0])
	}
	*m = pairs
	v.headersChanged(u32(p[0]))
	return statusOK
}

// Buffers.

func hostGetBufferBytes(v *vm, p []uint64) uint32 {
	buf, st := v.buffer(u32(p[0]))
	if st != statusOK {
		return st
	}
	start, max := uint64(u32(p[1])), uint64(u32(p[2]))
	if start+max > math.MaxUint32*2 {
		return statusBadArgument
	}
	n := uint64(len(buf))
	if start >= n {
		return v.writeOut(u32(p[3]), u32(p[4]), 0, 0)
	}
	end := start + max
	if end > n {
		end = n
	}
	return v.copyOut(buf[start:end], u32(p[3]), u32(p[4]))
}

func hostGetBufferStatus(v *vm, p []uint64) uint32 {
	buf, st := v.buffer(u32(p[0]))
	if st != statusOK {
		return st
	}
	if !v.mem.WriteUint32Le(u32(p[1]), uint32(len(buf))) || !v.mem.WriteUint32Le(u32(p[2]), 0) {
		return statusInvalidMemoryAccess
	}
	return statusOK
}

func hostSetBufferBytes(v *vm, p []uint64) uint32 {
	bt := u32(p[0])
	if bt > 8 {
		return statusBadArgument
	}
	s := v.streamFor()
	if (bt != 0 && bt != 1) || s == nil {
		if _, st := v.buffer(bt); st != statusOK {
			return st
		}
		return statusBadArgument // immutable buffers (call response, configuration)
	}
	d := &s.dirs[bt]
	if !d.bodyAvailable() {
		return statusNotFound
	}
	data, ok := v.read(u32(p[3]), u32(p[4]))
	if !ok {
		return statusInvalidMemoryAccess
	}
	start, size := uint64(u32(p[1])), uint64(u32(p[2]))
	n := uint64(len(d.body))
	switch {
	case start == 0:
		if size > n {
			size = n
		}
		rest := d.body[size:]
		nb := make([]byte, 0, len(data)+len(rest))
		nb = append(append(nb, data...), rest...)
		d.body = nb
	case start >= n:
		d.body = append(d.body, data...)
	default:
		return statusBadArgument
	}
	return statusOK
}

// Metrics.

func hostDefineMetric(v *vm, p []uint64) uint32 {
	t := u32(p[0])
	if t > 2 {
		return statusBadArgument
	}
	name, ok := v.readString(u32(p[1]), u32(p[2]))
	if !ok {
		return statusInvalidMemoryAccess
	}
	m := v.host.metrics.define(MetricType(t), name)
	id := v.nextID[t]
	v.nextID[t] += 4
	v.metrics[t] = append(v.metrics[t], m) // index id/4-1
	if !v.mem.WriteUint32Le(u32(p[3]), id) {
		return statusInvalidMemoryAccess
	}
	return statusOK
}

func hostIncrementMetric(v *vm, p []uint64) uint32 {
	m := v.metricByID(u32(p[0]))
	if m == nil {
		return statusNotFound
	}
	return m.increment(int64(p[1]))
}

func hostRecordMetric(v *vm, p []uint64) uint32 {
	m := v.metricByID(u32(p[0]))
	if m == nil {
		return statusNotFound
	}
	return m.record(p[1])
}

func hostGetMetric(v *vm, p []uint64) uint32 {
	m := v.metricByID(u32(p[0]))
	if m == nil {
		return statusNotFound
	}
	val, st := m.get()
	if st != statusOK {
		return st
	}
	if !v.mem.WriteUint64Le(u32(p[1]), val) {
		return statusInvalidMemoryAccess
	}
	return statusOK
}

// Ticks.

// setTick sets the tick period of root r; the first tick comes one period later and each tick re-arms after
// proxy_on_tick returns (Envoy's tickHandler).
func (v *vm) setTick(r *rootContext, periodMS uint32) {
	if r.tickTimer != nil {
		r.tickTimer.Stop()
		r.tickTimer = nil
	}
	r.tickGen++
	r.tickPeriod = periodMS
	if periodMS > 0 {
		v.armTick(r)
	}
}

func (v *vm) armTick(r *rootContext) {
	gen := r.tickGen
	r.tickTimer = v.host.clock.AfterFunc(time.Duration(r.tickPeriod)*time.Millisecond, func() { v.fireTick(r, gen) })
}

func (v *vm) fireTick(r *rootContext, gen uint64) {
	defer v.host.guard(nil)
	v.mu.Lock()
	defer v.unlock()
	if v.closed || v.failed != nil || r.deleted || r.tickGen != gen {
		return
	}
	r.tickTimer = nil
	v.stack[0] = uint64(r.id)
	if _, err := v.invoke(v.fn.tick, "proxy_on_tick", r.id); err != nil {
		return
	}
	v.runAfter()
	if r.tickGen == gen && r.tickPeriod > 0 && !r.deleted {
		v.armTick(r)
	}
}
