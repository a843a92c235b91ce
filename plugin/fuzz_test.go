//go:build !wasm

package main_test

import (
	"strings"
	"testing"
	"time"

	"github.com/eventroute/eventroute/hostsim"
)

// FuzzPlugin sends random header blocks and bodies through the plugin in
// three hosts (default, holding, holding broker) and checks that the guest
// never fails: every request is forwarded or answered with one of the
// plugin's statuses, and the delivery invariant holds once the clock ran.
//
// The header block is one "name: value" per line; the body is sent in
// chunks of chunk+1 bytes.
func FuzzPlugin(f *testing.F) {
	f.Add(":method: POST\ncontent-type: application/json\nce-specversion: 1.0\nce-id: 1\nce-source: Bank\nce-type: 转账", []byte(`{"amount":100}`), uint8(255))
	f.Add(":method: POST\ncontent-type: application/cloudevents+json", []byte(`{"specversion":"1.0","id":"1","source":"Bank","type":"转账","data":{"amount":2000}}`), uint8(3))
	f.Add(":method: POST\ncontent-type: application/cloudevents-batch+json", []byte(`[{"specversion":"1.0","id":"1","source":"Bank","type":"a"},{"specversion":"1.0","id":"2","source":"x","type":"b","data_base64":"AAE="}]`), uint8(7))
	f.Add(":method: POST\n:path: /orders/1\ncontent-type: application/json", []byte(`{"eventId":"o1","eventType":"created","origin":"shop","order":{"id":"9"}}`), uint8(0))
	f.Add(":method: GET\nx-eventroute-subscriber: accounts\nx-eventroute-hop: 99999999999999999999", []byte(nil), uint8(0))
	f.Add("content-type: application/cloudevents+json; charset=utf-8\ncontent-length: 5", []byte(`{"a":`), uint8(1))
	f.Add("ce-specversion: 1.0\nce-id: %zz\nce-type: %E8%BD%AC%E8%B4%A6\nce-source: \"quoted\"", []byte{0xff, 0xfe}, uint8(0))

	cfgs := []struct {
		mode      hostMode
		overrides string
	}{
		{hostModes[0], fuzzOverrides},
		{hostModes[1], fuzzOverrides},
		{hostModes[1], `{"broker": {"enabled": true, "ack": "delivered"}, "limits": {"maxBodyBytes": 4096, "maxPendingDeliveries": 8}}`},
	}
	envs := make([]*env, len(cfgs))
	for i, c := range cfgs {
		envs[i] = newEnv(f, envOptions{config: config(f, c.mode, c.overrides), allowStop: c.mode.hold,
			principal: "spiffe://cluster.local/ns/bank/sa/core"})
		envs[i].subs["accounts"].script(503, 202, 500, 404)
	}
	f.Fuzz(func(t *testing.T, block string, body []byte, chunk uint8) {
		headers := hostsim.Headers{{":method", "POST"}, {":path", "/publish"}, {":authority", "gateway.bank"}, {":scheme", "http"}}
		for _, line := range strings.Split(block, "\n") {
			name, value, ok := strings.Cut(line, ":")
			if line != "" && line[0] == ':' {
				pseudo, v, ok2 := strings.Cut(line[1:], ":")
				name, value, ok = ":"+pseudo, v, ok2
			}
			name = strings.ToLower(strings.TrimSpace(name))
			if !ok || name == "" || name == ":" {
				continue
			}
			headers = setOrAdd(headers, name, strings.TrimSpace(value))
		}
		for _, e := range envs {
			e.t = t
			s := e.host.NewStream(t.Context())
			if err := s.SendRequestHeaders(headers, len(body) == 0); err != nil {
				t.Fatalf("headers: %v", err)
			}
			step := int(chunk) + 1
			for off := 0; off < len(body) && s.LocalReply() == nil; off += step {
				end := min(off+step, len(body))
				if err := s.SendRequestBody(body[off:end], end == len(body)); err != nil {
					t.Fatalf("body: %v", err)
				}
			}
			e.advance(2 * time.Millisecond)
			if r := s.LocalReply(); r != nil {
				switch r.Status {
				case 202, 400, 403, 413, 502:
				default:
					t.Fatalf("unexpected local reply %d %q %s", r.Status, r.Details, r.Body)
				}
			} else if !s.Request().Forwarded {
				e.advance(time.Second) // a held request must be resumed by the hold guard
				if !s.Request().Forwarded && s.LocalReply() == nil {
					t.Fatal("request stalled")
				}
			}
			if s.LocalReply() == nil {
				if err := s.SendResponseHeaders(hostsim.Headers{{":status", "200"}}, true); err != nil {
					t.Fatalf("response: %v", err)
				}
			}
			if err := s.Complete(); err != nil {
				t.Fatalf("complete: %v", err)
			}
			if err := e.host.Failed(0); err != nil {
				t.Fatalf("the guest failed: %v", err)
			}
		}
	})
	for _, e := range envs {
		e.t = f
		e.settle()
		e.checkInvariant("accounts", "audit", "raw", "orig", "dlq")
	}
}

const fuzzOverrides = `{
  "mirrors": [
    {"name": "audit-bank", "match": [{"prefix": {"source": "Bank"}}], "to": ["audit", "raw"]},
    {"name": "big", "match": [{"data": {"path": "amount", "ge": 1000}}], "to": ["accounts", "orig"], "percent": 50}
  ],
  "publishers": [{"match": [{"exact": {"type": "restricted"}}], "principals": ["spiffe://other"]}],
  "recognize": {"json": [{"name": "orders", "contentTypes": ["application/json"], "pathPrefix": "/orders",
    "attributes": {"id": "eventId", "type": "eventType", "source": "origin", "subject": "order.id"}}]},
  "limits": {"maxBodyBytes": 4096, "maxBatchEvents": 5, "maxPendingDeliveries": 8}
}`

func setOrAdd(h hostsim.Headers, name, value string) hostsim.Headers {
	if strings.HasPrefix(name, ":") {
		for i := range h {
			if h[i][0] == name {
				h[i][1] = value
				return h
			}
		}
	}
	return append(h, [2]string{name, value})
}
