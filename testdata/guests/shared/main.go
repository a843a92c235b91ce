// Command shared is the conformance guest for shared data (with CAS) and
// shared queues.
//
// On plugin start it registers queue "guest_queue". Per request (request
// headers callback), with key = header x-shared-key (default "k") and value =
// header x-shared-value (default "v"), it runs this fixed sequence:
//
//  1. get(key)                                 (first time: not_found)
//  2. set(key, VALUE, cas 0)                   unconditional: ok
//  3. get(key) → CAS1
//  4. set(key, VALUE+"-2", CAS1)               ok
//  5. set(key, VALUE+"-3", CAS1)               stale CAS: cas_mismatch
//  6. get(key)                                 VALUE+"-2", CAS differs from CAS1
//
// If header x-enqueue is present, it resolves "guest_queue" in its own VM (vm
// id "") and enqueues the header's value; it also enqueues to queue id
// 0xFFFFFFF0, which no host hands out (Envoy: not_found). On
// proxy_on_queue_ready it dequeues until the queue is empty.
//
// Log lines (info; values Go-quoted; err is an obs.Status token):
//
//	queue_register name="guest_queue" id=ID err=E              plugin start
//	shared_get step=1|3|6 key="K" value="V" cas=C err=E        value "" and cas 0 on error
//	shared_set step=2|4|5 key="K" value="V" cas=C err=E        C = the CAS passed
//	queue_resolve name="guest_queue" id=ID err=E
//	queue_enqueue id=ID value="V" err=E
//	queue_enqueue_unknown id=4294967280 err=E
//	queue_ready id=ID                                          then per item:
//	queue_dequeue id=ID value="V" err=E                        the last one has err=empty
package main

import (
	"github.com/eventroute/eventroute/testdata/guests/internal/obs"
	"github.com/proxy-wasm/proxy-wasm-go-sdk/proxywasm"
	"github.com/proxy-wasm/proxy-wasm-go-sdk/proxywasm/types"
)

func init() {
	proxywasm.SetPluginContext(func(uint32) types.PluginContext { return &plugin{} })
}

func main() {}

// Queue the guest registers and a queue id no host hands out.
const (
	queueName      = "guest_queue"
	unknownQueueID = 0xFFFFFFF0
	maxDequeues    = 1000 // bound on items drained per queue_ready
)

// plugin is the root context; it owns the queue registration.
type plugin struct {
	types.DefaultPluginContext
}

// OnPluginStart implements types.PluginContext.
func (*plugin) OnPluginStart(int) types.OnPluginStartStatus {
	id, err := proxywasm.RegisterSharedQueue(queueName)
	proxywasm.LogInfof("queue_register name=%q id=%d err=%s", queueName, id, obs.Status(err))
	return types.OnPluginStartStatusOK
}

// OnQueueReady implements types.PluginContext.
func (*plugin) OnQueueReady(queueID uint32) {
	proxywasm.LogInfof("queue_ready id=%d", queueID)
	for range maxDequeues {
		v, err := proxywasm.DequeueSharedQueue(queueID)
		proxywasm.LogInfof("queue_dequeue id=%d value=%q err=%s", queueID, v, obs.Status(err))
		if err != nil {
			return
		}
	}
}

// NewHttpContext implements types.PluginContext.
func (*plugin) NewHttpContext(uint32) types.HttpContext { return &stream{} }

// stream is the per-request context.
type stream struct {
	types.DefaultHttpContext
}

// OnHttpRequestHeaders implements types.HttpContext.
func (*stream) OnHttpRequestHeaders(int, bool) types.Action {
	key, value := header("x-shared-key", "k"), header("x-shared-value", "v")
	get(1, key)
	set(2, key, value, 0)
	cas := get(3, key)
	set(4, key, value+"-2", cas)
	set(5, key, value+"-3", cas)
	get(6, key)

	if item, err := proxywasm.GetHttpRequestHeader("x-enqueue"); err == nil {
		id, err := proxywasm.ResolveSharedQueue("", queueName)
		proxywasm.LogInfof("queue_resolve name=%q id=%d err=%s", queueName, id, obs.Status(err))
		err = proxywasm.EnqueueSharedQueue(id, []byte(item))
		proxywasm.LogInfof("queue_enqueue id=%d value=%q err=%s", id, item, obs.Status(err))
		err = proxywasm.EnqueueSharedQueue(unknownQueueID, []byte(item))
		proxywasm.LogInfof("queue_enqueue_unknown id=%d err=%s", uint32(unknownQueueID), obs.Status(err))
	}
	return types.ActionContinue
}

// get reads key, logs the result and returns its CAS.
func get(step int, key string) uint32 {
	v, cas, err := proxywasm.GetSharedData(key)
	proxywasm.LogInfof("shared_get step=%d key=%q value=%q cas=%d err=%s", step, key, v, cas, obs.Status(err))
	return cas
}

// set writes key with the given CAS and logs the result.
func set(step int, key, value string, cas uint32) {
	err := proxywasm.SetSharedData(key, []byte(value), cas)
	proxywasm.LogInfof("shared_set step=%d key=%q value=%q cas=%d err=%s", step, key, value, cas, obs.Status(err))
}

// header returns the request header's value, or def when it is absent.
func header(name, def string) string {
	if v, err := proxywasm.GetHttpRequestHeader(name); err == nil {
		return v
	}
	return def
}
