//go:build !wasm

package main_test

import (
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/eventroute/eventroute/hostsim"
)

func TestStart_BadConfigFailsNamingThePathNotThePayload(t *testing.T) {
	t.Parallel()
	bad := `{"subscribers":{"a":{"cluster":"a","authority":"secret-token-42"}},
	         "routes":[{"name":"r","match":[],"to":"nope"}]}`
	_, err := startEnv(t, envOptions{config: bad})
	if err == nil {
		t.Fatal("a route to an unknown subscriber must fail plugin start")
	}
	if !errors.Is(err, hostsim.ErrStartFailed) {
		t.Errorf("error %v does not wrap hostsim.ErrStartFailed", err)
	}
	if !strings.Contains(err.Error(), "routes[0].to") {
		t.Errorf("error %q does not name the JSON path routes[0].to", err)
	}
	if strings.Contains(err.Error(), "secret-token-42") {
		t.Errorf("error %q echoes the configuration", err)
	}
}

func TestStart_EmptyConfigSaysWhatIsMissing(t *testing.T) {
	t.Parallel()
	_, err := startEnv(t, envOptions{config: ""})
	if err == nil || !strings.Contains(err.Error(), "subscribers") {
		t.Fatalf("empty config: got %v, want a start failure naming \"subscribers\"", err)
	}
}

func TestReconfigure_BadConfigIsRefusedAndTheOldOneKept(t *testing.T) {
	t.Parallel()
	e := modeEnv(t, hostModes[0], "")
	if err := e.host.Reconfigure(t.Context(), []byte(`{"subscribers":{}}`)); err == nil {
		t.Fatal("reconfiguring with a bad config must fail")
	}
	h, body := binaryTransfer("1")
	x := e.do(h, body)
	if got := x.request.Headers.Value("x-eventroute-subscriber"); got != "accounts" {
		t.Fatalf("after a refused reconfigure the old routes must still apply; routed to %q", got)
	}
}

func TestNonEvent_ContinuesUntouched(t *testing.T) {
	forModes(t, func(t *testing.T, mode hostMode) {
		e := modeEnv(t, mode, "")
		in := hostsim.Headers{{":method", "GET"}, {":path", "/accounts/7"}, {":authority", "gateway.bank"},
			{":scheme", "http"}, {"accept", "application/json"}}
		x := e.do(in, nil)
		if !x.forwarded || x.reply != nil {
			t.Fatalf("forwarded=%v reply=%v, want forwarded without reply", x.forwarded, x.reply)
		}
		if got, want := headerString(x.request.Headers), headerString(in); got != want {
			t.Errorf("headers changed:\n got %s\nwant %s", got, want)
		}
		e.wantMetrics(map[string]uint64{"requests": 1, "events.binary": 0, "spoofed_header_removed": 0})
	})
}

func TestSpoofedRouteHeader_IsRemoved(t *testing.T) {
	forModes(t, func(t *testing.T, mode hostMode) {
		e := modeEnv(t, mode, "")
		x := e.do(hostsim.Headers{{":method", "GET"}, {":path", "/"}, {":authority", "gateway.bank"},
			{"x-eventroute-subscriber", "accounts"}}, nil)
		if v, ok := x.request.Headers.Get("x-eventroute-subscriber"); ok {
			t.Errorf("client-supplied route header reached upstream: %q", v)
		}
		h, body := binaryTransfer("1")
		h = append(h, [2]string{"x-eventroute-subscriber", "audit"})
		x = e.do(h, body)
		if got := x.request.Headers.Value("x-eventroute-subscriber"); got != "accounts" {
			t.Errorf("routed event: route header %q, want the plugin's choice accounts", got)
		}
		e.wantMetrics(map[string]uint64{"spoofed_header_removed": 2})
	})
}

func TestBinaryEvent_IsRoutedFromHeadersAndMirrored(t *testing.T) {
	forModes(t, func(t *testing.T, mode hostMode) {
		e := modeEnv(t, mode, "")
		h, body := binaryTransfer("tx-1")
		x := e.do(h, body)
		if !x.forwarded {
			t.Fatal("routed request was not forwarded")
		}
		got := x.request.Headers
		for k, want := range map[string]string{":authority": "accounts.bank.svc.cluster.local", ":path": "/events",
			"x-eventroute-subscriber": "accounts", "ce-type": "转账"} {
			if v := got.Value(k); v != want {
				t.Errorf("forwarded %s = %q, want %q", k, v, want)
			}
		}
		if string(x.request.Body) != string(body) {
			t.Errorf("forwarded body %q, want %q", x.request.Body, body)
		}
		e.settle()
		audit := e.subs["audit"].received()
		if len(audit) != 1 {
			t.Fatalf("audit received %d copies, want 1", len(audit))
		}
		ev := decodeEvent(t, audit[0])
		if ev.ID() != "tx-1" || ev.Type() != "转账" || ev.Source() != "Bank" || string(ev.Data()) != `{"amount":100}` {
			t.Errorf("audit copy = %v", ev)
		}
		if ct := audit[0].Headers.Value("content-type"); ct != "application/cloudevents+json" {
			t.Errorf("audit (structured) content-type %q", ct)
		}
		e.wantMetrics(map[string]uint64{"requests": 1, "events.binary": 1, "route.transfers.matched": 1,
			"mirror.audit-bank.matched": 1, "subscriber.audit.sent": 1, "subscriber.audit.delivered": 1,
			"route.needs_hold": 0})
		e.checkInvariant("audit", "accounts", "dlq")
	})
}

func TestStructuredEvent_IsRoutedOnlyWhenTheHostHoldsHeaders(t *testing.T) {
	forModes(t, func(t *testing.T, mode hostMode) {
		e := modeEnv(t, mode, "")
		body := structuredEvent("s-1", "转账", "Bank", 5)
		x := e.do(structuredHeaders(), body)
		if !x.forwarded || string(x.request.Body) != string(body) {
			t.Fatalf("forwarded=%v body=%q, want the original body forwarded", x.forwarded, x.request.Body)
		}
		routedTo := x.request.Headers.Value("x-eventroute-subscriber")
		if mode.hold {
			if routedTo != "accounts" || x.request.Headers.Value(":authority") != "accounts.bank.svc.cluster.local" {
				t.Errorf("held headers: routed to %q, authority %q", routedTo, x.request.Headers.Value(":authority"))
			}
			e.wantMetrics(map[string]uint64{"route.needs_hold": 0})
		} else {
			if routedTo != "" || x.request.Headers.Value(":authority") != "gateway.bank" {
				t.Errorf("without hold the headers must go out unchanged; routed to %q", routedTo)
			}
			e.do(structuredHeaders(), body)
			e.wantMetrics(map[string]uint64{"route.needs_hold": 2})
			if n := len(e.logsContaining("holdHeaders")); n != 1 {
				t.Errorf("needs_hold logged %d times, want once", n)
			}
		}
		e.wantMetrics(map[string]uint64{"events.structured": map[bool]uint64{true: 1, false: 2}[mode.hold],
			"route.transfers.matched": map[bool]uint64{true: 1, false: 2}[mode.hold]})
	})
}

func TestHoldHeadersOnADefaultHost_NeverStallsARequest(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{config: config(t, hostMode{hold: true}, ""), allowStop: false})
	body := structuredEvent("s-1", "转账", "Bank", 5)
	x := e.send(structuredHeaders(), body)
	if x.forwarded {
		t.Fatal("paused headers were forwarded at once")
	}
	e.advance(999 * time.Millisecond)
	if x.stream.Request().Forwarded {
		t.Fatal("resumed before holdTimeout")
	}
	e.advance(2 * time.Millisecond)
	st := x.stream.Request()
	if !st.Forwarded || string(st.Body) != string(body) {
		t.Fatalf("after holdTimeout: forwarded=%v body=%q, want the request resumed whole", st.Forwarded, st.Body)
	}
	e.complete(x)
	e.wantMetrics(map[string]uint64{"route.hold_timeout": 1, "route.needs_hold": 1, "events.structured": 1})
	if n := len(e.logsContaining("limits.holdTimeout")); n != 1 {
		t.Errorf("hold timeout warning logged %d times, want once", n)
	}
}

func TestBatch_RoutedOnlyWhenEveryEventAgrees(t *testing.T) {
	forModes(t, func(t *testing.T, mode hostMode) {
		e := modeEnv(t, mode, "")
		agree := "[" + string(structuredEvent("b1", "转账", "Bank", 1)) + "," + string(structuredEvent("b2", "转账", "Bank", 2)) + "]"
		x := e.do(batchHeaders(), []byte(agree))
		want := map[bool]string{true: "accounts", false: ""}[mode.hold]
		if got := x.request.Headers.Value("x-eventroute-subscriber"); got != want {
			t.Errorf("agreeing batch routed to %q, want %q", got, want)
		}
		conflict := "[" + string(structuredEvent("c1", "转账", "Bank", 1)) + "," + string(structuredEvent("c2", "other", "Bank", 2)) + "]"
		x = e.do(batchHeaders(), []byte(conflict))
		if got := x.request.Headers.Value("x-eventroute-subscriber"); got != "" || !x.forwarded {
			t.Errorf("conflicting batch: routed to %q, forwarded %v; want unrouted and forwarded", got, x.forwarded)
		}
		e.wantMetrics(map[string]uint64{"route.conflict": 1, "events.batch": 4})
	})
}

const mirrorFormats = `{"routes": [], "mirrors": [
  {"name": "all", "match": [], "to": ["audit", "raw", "orig"]}]}`

func TestMirror_EncodesEachSubscribersFormat(t *testing.T) {
	forModes(t, func(t *testing.T, mode hostMode) {
		e := modeEnv(t, mode, mirrorFormats)
		// Spaces after commas: a re-encoded copy would differ from the published bytes.
		body := []byte(strings.ReplaceAll(string(structuredEvent("m-1", "转账", "Bank", 7)), ",", ", "))
		x := e.do(structuredHeaders(), body)
		if !x.forwarded || x.request.Headers.Value(":authority") != "gateway.bank" {
			t.Fatal("a mirrored request must go on unchanged")
		}
		e.settle()
		orig, raw, audit := e.subs["orig"].received(), e.subs["raw"].received(), e.subs["audit"].received()
		if len(orig) != 1 || len(raw) != 1 || len(audit) != 1 {
			t.Fatalf("copies: orig %d raw %d audit %d, want 1 each", len(orig), len(raw), len(audit))
		}
		if string(orig[0].Body) != string(body) || orig[0].Headers.Value("content-type") != "application/cloudevents+json; charset=utf-8" {
			t.Errorf("original format: got %q (%s)", orig[0].Body, orig[0].Headers.Value("content-type"))
		}
		if string(audit[0].Body) != string(body) || !strings.HasPrefix(audit[0].Headers.Value("content-type"), "application/cloudevents+json") {
			t.Errorf("structured copy of a structured event: got %q (%s), want the published event as it is",
				audit[0].Body, audit[0].Headers.Value("content-type"))
		}
		for _, c := range []hostsim.CallRequest{orig[0], raw[0], audit[0]} {
			if c.Headers.Value(":method") != "POST" || c.Headers.Value("x-eventroute-hop") != "1" {
				t.Errorf("%s: method %q hop %q", c.Cluster, c.Headers.Value(":method"), c.Headers.Value("x-eventroute-hop"))
			}
		}
		if raw[0].Headers.Value(":path") != "/raw" || raw[0].Headers.Value(":authority") != "raw" {
			t.Errorf("raw: path %q authority %q", raw[0].Headers.Value(":path"), raw[0].Headers.Value(":authority"))
		}
		if raw[0].Headers.Value("ce-id") != "m-1" || raw[0].Headers.Value("ce-specversion") != "1.0" ||
			string(raw[0].Body) != `{"amount":7}` || raw[0].Headers.Value("content-type") != "application/json" {
			t.Errorf("binary copy: headers %v body %q", raw[0].Headers, raw[0].Body)
		}
		for _, c := range []hostsim.CallRequest{raw[0], audit[0]} {
			ev := decodeEvent(t, c)
			if ev.ID() != "m-1" || ev.Type() != "转账" || ev.Subject() != "Account" || string(ev.Data()) != `{"amount":7}` {
				t.Errorf("%s decodes to %v", c.Cluster, ev)
			}
		}
		e.wantMetrics(map[string]uint64{"mirror.all.matched": 1, "subscriber.raw.delivered": 1})
		e.checkInvariant("audit", "raw", "orig")
	})
}

func TestMirror_CopiesLeaveAtOnceAndAnswersAfterTheStreamCount(t *testing.T) {
	forModes(t, func(t *testing.T, mode hostMode) {
		e := modeEnv(t, mode, "")
		release := e.subs["audit"].holdAnswers() // answer only after the stream ended
		h, body := binaryTransfer("now-1")
		x := e.do(h, body)
		if !x.forwarded {
			t.Fatal("the original request was not forwarded")
		}
		release()
		e.idle() // the clock never moves in this test
		if n := len(e.subs["audit"].received()); n != 1 {
			t.Fatalf("audit received %d copies without a tick, want 1", n)
		}
		e.wantMetrics(map[string]uint64{"subscriber.audit.sent": 1, "subscriber.audit.delivered": 1,
			"subscriber.audit.failed": 0})
		e.checkInvariant("audit")
	})
}

func TestMirror_EachWorkerVMWakesItsOwnRoot(t *testing.T) {
	t.Parallel()
	// Worker VMs share queue names (same vm_id); a wake-up must reach the
	// root of the VM that queued the copy, or the copy waits for a tick.
	e := newEnv(t, envOptions{config: config(t, hostModes[0], ""), workers: 3})
	h, body := binaryTransfer("w")
	for range 6 {
		e.do(h, body)
	}
	e.idle() // the clock never moves in this test
	if n := len(e.subs["audit"].received()); n != 6 {
		t.Fatalf("audit received %d copies from 3 workers without a tick, want 6", n)
	}
	e.wantMetrics(map[string]uint64{"subscriber.audit.sent": 6, "subscriber.audit.delivered": 6})
}

func TestMirror_SplitsABatchPerSubscriber(t *testing.T) {
	forModes(t, func(t *testing.T, mode hostMode) {
		e := modeEnv(t, mode, `{"routes": [], "mirrors": [
		  {"name": "bank", "match": [{"exact": {"source": "Bank"}}], "to": ["orig"]},
		  {"name": "other", "match": [{"exact": {"source": "Other"}}], "to": ["raw"]}]}`)
		batch := "[" + string(structuredEvent("e1", "t", "Bank", 1)) + "," + string(structuredEvent("e2", "t", "Other", 2)) +
			"," + string(structuredEvent("e3", "t", "Bank", 3)) + "]"
		e.do(batchHeaders(), []byte(batch))
		e.settle()
		orig, raw := e.subs["orig"].received(), e.subs["raw"].received()
		if len(orig) != 1 || len(raw) != 1 {
			t.Fatalf("orig got %d messages, raw %d; want 1 each", len(orig), len(raw))
		}
		var got []struct{ ID string }
		if err := json.Unmarshal(orig[0].Body, &got); err != nil || len(got) != 2 || got[0].ID != "e1" || got[1].ID != "e3" {
			t.Errorf("orig batch = %s (%v), want events e1, e3", orig[0].Body, err)
		}
		if ct := orig[0].Headers.Value("content-type"); ct != "application/cloudevents-batch+json" {
			t.Errorf("orig batch content-type %q", ct)
		}
		if raw[0].Headers.Value("ce-id") != "e2" {
			t.Errorf("raw got ce-id %q, want e2", raw[0].Headers.Value("ce-id"))
		}
		e.wantMetrics(map[string]uint64{"mirror.bank.matched": 2, "mirror.other.matched": 1})
		e.checkInvariant("orig", "raw")
	})
}

// typedEvent is a JSON-format event with a number extension (seq), a boolean
// one (flag) and a string that looks like a number (ref), in the canonical
// form the plugin writes.
func typedEvent(id, source string, seq int, flag bool) string {
	f := "false"
	if flag {
		f = "true"
	}
	return `{"specversion":"1.0","id":"` + id + `","source":"` + source + `","type":"t","seq":` + itoa(seq) +
		`,"flag":` + f + `,"ref":"` + itoa(seq) + `","data":{"amount":1}}`
}

// checkTypedExtensions fails unless a delivery of typedEvent carries its
// extensions with their JSON types, in the body and as sdk-go reads them.
func checkTypedExtensions(t *testing.T, c hostsim.CallRequest, seq int, flag bool) {
	t.Helper()
	body, f := string(c.Body), "false"
	if flag {
		f = "true"
	}
	for _, member := range []string{`"seq":` + itoa(seq) + `,`, `"flag":` + f + `,`, `"ref":"` + itoa(seq) + `"`} {
		if !strings.Contains(body, member) {
			t.Errorf("%s: body %s lacks %s", c.Cluster, body, member)
		}
	}
	ext := decodeEvent(t, c).Extensions()
	if ext["seq"] != int32(seq) || ext["flag"] != flag || ext["ref"] != itoa(seq) {
		t.Errorf("%s: sdk-go reads seq %#v, flag %#v, ref %#v; want int32 %d, bool %v, string %q",
			c.Cluster, ext["seq"], ext["flag"], ext["ref"], seq, flag, itoa(seq))
	}
}

func TestMirror_SplitBatchKeepsExtensionTypes(t *testing.T) {
	forModes(t, func(t *testing.T, mode hostMode) {
		e := modeEnv(t, mode, `{"routes": [], "mirrors": [
		  {"name": "bank", "match": [{"exact": {"source": "Bank"}}], "to": ["audit", "orig"]}]}`)
		batch := "[" + typedEvent("e1", "Bank", 7, true) + "," + typedEvent("e2", "Other", 8, true) +
			"," + typedEvent("e3", "Bank", 9, false) + "]"
		e.do(batchHeaders(), []byte(batch))
		e.settle()
		audit, orig := e.subs["audit"].received(), e.subs["orig"].received()
		if len(audit) != 2 || len(orig) != 1 {
			t.Fatalf("audit got %d messages, orig %d; want 2 and 1", len(audit), len(orig))
		}
		// audit (format structured): one structured event per message.
		want := map[string]struct {
			seq  int
			flag bool
		}{"e1": {7, true}, "e3": {9, false}}
		for _, c := range audit {
			ev := decodeEvent(t, c)
			w, ok := want[ev.ID()]
			if !ok {
				t.Fatalf("audit got event %q", ev.ID())
			}
			delete(want, ev.ID())
			checkTypedExtensions(t, c, w.seq, w.flag)
		}
		// orig (format original): the batch re-encoded with the Bank events only.
		if wantBody := "[" + typedEvent("e1", "Bank", 7, true) + "," + typedEvent("e3", "Bank", 9, false) + "]"; string(orig[0].Body) != wantBody {
			t.Errorf("orig batch =\n%s\nwant\n%s", orig[0].Body, wantBody)
		}
		e.wantMetrics(map[string]uint64{"mirror.bank.matched": 2})
		e.checkInvariant("audit", "orig")
	})
}

func TestMirror_PercentZeroSendsNothing(t *testing.T) {
	forModes(t, func(t *testing.T, mode hostMode) {
		e := modeEnv(t, mode, `{"routes": [], "mirrors": [{"name": "none", "match": [], "to": ["orig"], "percent": 0}]}`)
		h, body := binaryTransfer("p-1")
		e.do(h, body)
		e.settle()
		if n := len(e.subs["orig"].received()); n != 0 {
			t.Errorf("percent 0 sent %d copies", n)
		}
		e.wantMetrics(map[string]uint64{"mirror.none.matched": 1, "subscriber.orig.sent": 0})
	})
}

func TestLoopGuard_SuppressesRoutingAndMirroring(t *testing.T) {
	forModes(t, func(t *testing.T, mode hostMode) {
		e := modeEnv(t, mode, "")
		h, body := binaryTransfer("l-1")
		h = append(h, [2]string{"x-eventroute-hop", "1"})
		x := e.do(h, body)
		e.settle()
		if x.request.Headers.Value("x-eventroute-subscriber") != "" || len(e.subs["audit"].received()) != 0 {
			t.Error("an event at maxHops was routed or mirrored")
		}
		e.wantMetrics(map[string]uint64{"loop_suppressed": 1, "events.binary": 0})
	})
}

func TestBodyTooLarge_ContinuesUntouchedAndIsCounted(t *testing.T) {
	forModes(t, func(t *testing.T, mode hostMode) {
		e := modeEnv(t, mode, `{"limits": {"maxBodyBytes": 64}}`)
		body := structuredEvent("big-1", "转账", "Bank", 123456789)
		x := e.do(structuredHeaders(), body)
		withLength := append(structuredHeaders(), [2]string{"content-length", itoa(len(body))})
		y := e.do(withLength, body)
		for _, r := range []*exchange{x, y} {
			if !r.forwarded || string(r.request.Body) != string(body) || r.request.Headers.Value("x-eventroute-subscriber") != "" {
				t.Errorf("oversized body: forwarded=%v routed=%q", r.forwarded, r.request.Headers.Value("x-eventroute-subscriber"))
			}
		}
		e.wantMetrics(map[string]uint64{"body_too_large": 2, "events.structured": 0})
	})
}

func TestInvalidEvent_IsRejectedWithAProblem(t *testing.T) {
	forModes(t, func(t *testing.T, mode hostMode) {
		e := modeEnv(t, mode, "")
		body := []byte(`{"specversion":"1.0","id":"x","type":"转账"}`)
		x := e.do(structuredHeaders(), body)
		if x.reply == nil || x.reply.Status != 400 {
			t.Fatalf("reply = %+v, want 400", x.reply)
		}
		if ct := x.reply.Headers.Value("content-type"); ct != "application/problem+json" {
			t.Errorf("content-type %q", ct)
		}
		var p struct {
			Status int
			Detail string
		}
		if err := json.Unmarshal(x.reply.Body, &p); err != nil || p.Status != 400 || !strings.Contains(p.Detail, "source") {
			t.Errorf("problem body %s (%v) must name the missing source", x.reply.Body, err)
		}
		if mode.hold && x.forwarded {
			t.Error("with held headers an invalid event must never reach the upstream")
		}
		h, _ := binaryTransfer("")
		x = e.do(h, []byte("{}"))
		if x.reply == nil || x.reply.Status != 400 {
			t.Errorf("binary event with empty id: reply %+v, want 400", x.reply)
		}
		e.wantMetrics(map[string]uint64{"events.invalid": 2})
	})
}

func TestInvalidEvent_PassesWhenConfigured(t *testing.T) {
	forModes(t, func(t *testing.T, mode hostMode) {
		e := modeEnv(t, mode, `{"onInvalid": "pass"}`)
		body := []byte(`{"specversion":"1.0","id":"x","type":"转账"}`)
		x := e.do(structuredHeaders(), body)
		if x.reply != nil || !x.forwarded || string(x.request.Body) != string(body) {
			t.Fatalf("onInvalid pass: reply %+v forwarded %v", x.reply, x.forwarded)
		}
		e.wantMetrics(map[string]uint64{"events.invalid": 1})
	})
}

const publisherRule = `{"publishers": [{"match": [{"exact": {"type": "转账"}}],
  "principals": ["spiffe://cluster.local/ns/bank/sa/core"]}]}`

func TestPublisher_UnlistedPeerIsDenied(t *testing.T) {
	forModes(t, func(t *testing.T, mode hostMode) {
		e := newEnv(t, envOptions{config: config(t, mode, publisherRule), allowStop: mode.hold,
			principal: "spiffe://cluster.local/ns/shop/sa/web"})
		h, body := binaryTransfer("d-1")
		x := e.do(h, body)
		if x.reply == nil || x.reply.Status != 403 || x.reply.Headers.Value("content-type") != "application/problem+json" {
			t.Fatalf("reply %+v, want 403 problem+json", x.reply)
		}
		e.wantMetrics(map[string]uint64{"publisher_denied": 1})
	})
}

func TestPublisher_ListedPeerIsAllowed(t *testing.T) {
	forModes(t, func(t *testing.T, mode hostMode) {
		e := newEnv(t, envOptions{config: config(t, mode, publisherRule), allowStop: mode.hold,
			principal: "spiffe://cluster.local/ns/bank/sa/core"})
		h, body := binaryTransfer("a-1")
		x := e.do(h, body)
		if x.reply != nil || x.request.Headers.Value("x-eventroute-subscriber") != "accounts" {
			t.Fatalf("listed publisher: reply %+v routed %q", x.reply, x.request.Headers.Value("x-eventroute-subscriber"))
		}
		e.wantMetrics(map[string]uint64{"publisher_denied": 0})
	})
}

func TestBroker_AcceptedAnswers202AndDelivers(t *testing.T) {
	forModes(t, func(t *testing.T, mode hostMode) {
		e := modeEnv(t, mode, `{"broker": {"enabled": true, "ack": "accepted"}}`)
		h, body := binaryTransfer("br-1")
		x := e.do(h, body)
		if x.reply == nil || x.reply.Status != 202 {
			t.Fatalf("reply %+v, want 202", x.reply)
		}
		if mode.hold && x.forwarded {
			t.Error("with held headers the broker must never contact the upstream")
		}
		e.settle()
		acc := e.subs["accounts"].received()
		if len(acc) != 1 || string(acc[0].Body) != string(body) || acc[0].Headers.Value("ce-id") != "br-1" ||
			acc[0].Headers.Value(":path") != "/events" {
			t.Fatalf("accounts received %+v", acc)
		}
		if n := len(e.subs["audit"].received()); n != 1 {
			t.Errorf("audit mirror got %d", n)
		}
		x = e.do(hostsim.Headers{{":method", "POST"}, {":path", "/"}, {":authority", "b"}, {"content-type", "application/json"},
			{"ce-specversion", "1.0"}, {"ce-id", "n"}, {"ce-source", "x"}, {"ce-type", "nothing-matches"}}, []byte("{}"))
		if x.reply == nil || x.reply.Status != 202 {
			t.Errorf("unmatched event: reply %+v, want 202", x.reply)
		}
		e.settle()
		e.checkInvariant("accounts", "audit")
	})
}

func TestBroker_DeliveredWaitsForFirstAttempts(t *testing.T) {
	forModes(t, func(t *testing.T, mode hostMode) {
		e := modeEnv(t, mode, `{"broker": {"enabled": true, "ack": "delivered"}}`)
		h, body := binaryTransfer("bd-1")
		x := e.send(h, body)
		if x.reply != nil {
			t.Fatalf("answered %d before any delivery", x.reply.Status)
		}
		e.idle() // first attempts leave at once: no tick needed
		if r := x.stream.LocalReply(); r == nil || r.Status != 202 {
			t.Fatalf("after deliveries: reply %+v, want 202", r)
		}
		e.complete(x)

		e.subs["accounts"].script(400)
		x = e.send(h, body)
		e.idle()
		r := x.stream.LocalReply()
		if r == nil || r.Status != 502 {
			t.Fatalf("failed delivery: reply %+v, want 502", r)
		}
		var p struct{ Subscribers []string }
		if err := json.Unmarshal(r.Body, &p); err != nil || len(p.Subscribers) != 1 || p.Subscribers[0] != "accounts" {
			t.Errorf("502 body %s must name accounts", r.Body)
		}
		e.complete(x)
		e.settle()
		e.checkInvariant("accounts", "audit", "dlq")
	})
}

const mirrorToAccounts = `{"routes": [], "mirrors": [{"name": "acc", "match": [], "to": ["accounts"]}]}`

func TestDelivery_RetriesWithBackoffThenDeadLetters(t *testing.T) {
	forModes(t, func(t *testing.T, mode hostMode) {
		e := modeEnv(t, mode, mirrorToAccounts)
		e.subs["accounts"].script(503)
		h, body := binaryTransfer("r-1")
		e.do(h, body)
		e.idle()
		if n := len(e.subs["accounts"].received()); n != 1 {
			t.Fatalf("first attempt: %d calls", n)
		}
		e.advance(40 * time.Millisecond)
		if n := len(e.subs["accounts"].received()); n != 1 {
			t.Fatalf("retried before the minimum backoff (50ms): %d calls", n)
		}
		e.settle()
		if n := len(e.subs["accounts"].received()); n != 3 {
			t.Fatalf("attempts: %d, want 3", n)
		}
		dl := e.subs["dlq"].received()
		if len(dl) != 1 {
			t.Fatalf("dead letters: %d, want 1", len(dl))
		}
		if dl[0].Headers.Value(":path") != "/dlq" {
			t.Errorf("dead letter path %q", dl[0].Headers.Value(":path"))
		}
		ev := decodeEvent(t, dl[0])
		ext := ev.Extensions()
		if ev.ID() != "r-1" || ext["eventroutesubscriber"] != "accounts" || toString(ext["eventroutestatus"]) != "503" ||
			!strings.Contains(toString(ext["eventrouteerror"]), "503") {
			t.Errorf("dead letter = %v", ev)
		}
		e.wantMetrics(map[string]uint64{"subscriber.accounts.sent": 1, "subscriber.accounts.failed": 3,
			"subscriber.accounts.retried": 2, "subscriber.accounts.dead_lettered": 1, "subscriber.dlq.delivered": 1})
		e.checkInvariant("accounts", "dlq")
	})
}

func TestDelivery_DeadLetterKeepsExtensionTypes(t *testing.T) {
	forModes(t, func(t *testing.T, mode hostMode) {
		e := modeEnv(t, mode, mirrorToAccounts)
		e.subs["accounts"].script(503)
		e.do(structuredHeaders(), []byte(typedEvent("d-1", "Bank", 7, true)))
		e.settle()
		dl := e.subs["dlq"].received()
		if len(dl) != 1 {
			t.Fatalf("dead letters: %d, want 1", len(dl))
		}
		checkTypedExtensions(t, dl[0], 7, true)
		if ext := decodeEvent(t, dl[0]).Extensions(); ext["eventroutesubscriber"] != "accounts" {
			t.Errorf("dead letter extensions %v", ext)
		}
		e.checkInvariant("accounts", "dlq")
	})
}

func TestDelivery_ResetIsRetriedAndFinalStatusIsNot(t *testing.T) {
	forModes(t, func(t *testing.T, mode hostMode) {
		e := modeEnv(t, mode, mirrorToAccounts)
		e.subs["accounts"].script(504, 202)
		h, body := binaryTransfer("r-2")
		e.do(h, body)
		e.settle()
		e.wantMetrics(map[string]uint64{"subscriber.accounts.delivered": 1, "subscriber.accounts.retried": 1})

		e.subs["accounts"].script(404)
		e.do(h, body)
		e.settle()
		if n := len(e.subs["accounts"].received()); n != 1 {
			t.Errorf("a 404 was retried: %d attempts", n)
		}
		e.wantMetrics(map[string]uint64{"subscriber.accounts.dead_lettered": 1})
		e.checkInvariant("accounts", "dlq")
	})
}

func TestDelivery_PendingBoundDropsAndCounts(t *testing.T) {
	forModes(t, func(t *testing.T, mode hostMode) {
		e := modeEnv(t, mode, `{"routes": [], "mirrors": [{"name": "o", "match": [], "to": ["orig"]}],
		  "limits": {"maxPendingDeliveries": 1}}`)
		h, body := binaryTransfer("b-1")
		release := e.subs["orig"].holdAnswers() // the first delivery stays pending
		for range 3 {
			e.do(h, body)
		}
		release()
		e.settle()
		e.wantMetrics(map[string]uint64{"subscriber.orig.sent": 3, "subscriber.orig.dropped": 2, "subscriber.orig.delivered": 1})
		e.checkInvariant("orig")
		if len(e.logsContaining("maxPendingDeliveries")) != 1 {
			t.Error("the drop reason must be logged once")
		}
	})
}

func headerString(h hostsim.Headers) string {
	var b strings.Builder
	for _, kv := range h {
		b.WriteString(kv[0] + "=" + kv[1] + ";")
	}
	return b.String()
}

func toString(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	b, _ := json.Marshal(v)
	return string(b)
}

const jsonProfiles = `{"recognize": {"json": [
  {"name": "orders", "contentTypes": ["application/json"], "pathPrefix": "/orders",
   "attributes": {"id": "eventId", "type": "eventType", "source": "origin", "subject": "order.id"}}]},
  "routes": [{"name": "created", "match": [{"exact": {"type": "order.created"}}], "to": "accounts"}],
  "mirrors": [{"name": "shop", "match": [{"exact": {"source": "shop"}}], "to": ["raw"]}]}`

func TestJSONProfile_EventsAreRecognizedRoutedAndMirrored(t *testing.T) {
	forModes(t, func(t *testing.T, mode hostMode) {
		e := modeEnv(t, mode, jsonProfiles)
		headers := hostsim.Headers{{":method", "POST"}, {":path", "/orders/42"}, {":authority", "shop"},
			{"content-type", "application/json"}}
		body := []byte(`{"eventId":"o-1","eventType":"order.created","origin":"shop","order":{"id":"42"},"total":3}`)
		x := e.do(headers, body)
		want := map[bool]string{true: "accounts", false: ""}[mode.hold]
		if got := x.request.Headers.Value("x-eventroute-subscriber"); got != want || string(x.request.Body) != string(body) {
			t.Errorf("routed to %q (want %q), body %q", got, want, x.request.Body)
		}
		notAnEvent := []byte(`{"eventType":"order.created"}`)
		y := e.do(headers, notAnEvent)
		if y.reply != nil || !y.forwarded || y.request.Headers.Value("x-eventroute-subscriber") != "" {
			t.Errorf("a JSON body without id must pass untouched: reply %+v", y.reply)
		}
		e.settle()
		raw := e.subs["raw"].received()
		if len(raw) != 1 {
			t.Fatalf("raw got %d copies", len(raw))
		}
		if raw[0].Headers.Value("ce-id") != "o-1" || raw[0].Headers.Value("ce-subject") != "42" || string(raw[0].Body) != string(body) {
			t.Errorf("binary copy of a JSON event: headers %v body %q", raw[0].Headers, raw[0].Body)
		}
		e.wantMetrics(map[string]uint64{"events.json": 1, "events.invalid": 0, "mirror.shop.matched": 1})
		e.checkInvariant("raw")
	})
}

func TestDelivery_PendingBytesBoundDropsAndCounts(t *testing.T) {
	forModes(t, func(t *testing.T, mode hostMode) {
		e := modeEnv(t, mode, `{"routes": [], "mirrors": [{"name": "o", "match": [], "to": ["orig"]}],
		  "limits": {"maxPendingBytes": 20}}`)
		h, body := binaryTransfer("pb-1")       // 14-byte body
		release := e.subs["orig"].holdAnswers() // the first delivery stays pending
		e.do(h, body)
		e.do(h, body)
		release()
		e.settle()
		e.wantMetrics(map[string]uint64{"subscriber.orig.sent": 2, "subscriber.orig.dropped": 1, "subscriber.orig.delivered": 1})
		e.checkInvariant("orig")
		if len(e.logsContaining("maxPendingBytes")) != 1 {
			t.Error("the drop reason must be logged once")
		}
	})
}

func TestDelivery_ResetWithoutDeadLetterIsDropped(t *testing.T) {
	forModes(t, func(t *testing.T, mode hostMode) {
		e := modeEnv(t, mode, `{"routes": [], "mirrors": [{"name": "o", "match": [], "to": ["orig"]}]}`)
		e.subs["orig"].reset = true
		h, body := binaryTransfer("rs-1")
		e.do(h, body)
		e.settle()
		e.wantMetrics(map[string]uint64{"subscriber.orig.sent": 1, "subscriber.orig.failed": 1,
			"subscriber.orig.dropped": 1, "subscriber.orig.delivered": 0})
		e.checkInvariant("orig")
	})
}

func TestDemoConfig_StartsAndRoutesTheTransfer(t *testing.T) {
	t.Parallel()
	demo, err := os.ReadFile("../testdata/config/demo.json")
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, envOptions{config: string(demo), allowStop: true})
	x := e.do(structuredHeaders(), structuredEvent("demo-1", "转账", "Bank", 10))
	if got := x.request.Headers.Value(":authority"); got != "accounts.bank.svc.cluster.local" {
		t.Errorf("demo transfer went to %q", got)
	}
	e.settle()
	if n := len(e.subs["audit"].received()); n != 1 {
		t.Errorf("audit got %d copies", n)
	}
}

func TestTrailers_EndTheBodyOfAMirroredEvent(t *testing.T) {
	forModes(t, func(t *testing.T, mode hostMode) {
		e := modeEnv(t, mode, mirrorFormats)
		body := structuredEvent("tr-1", "转账", "Bank", 3)
		s := e.host.NewStream(t.Context())
		if err := s.SendRequestHeaders(structuredHeaders(), false); err != nil {
			t.Fatal(err)
		}
		if err := s.SendRequestBody(body, false); err != nil {
			t.Fatal(err)
		}
		if err := s.SendRequestTrailers(hostsim.Headers{{"x-checksum", "1"}}); err != nil {
			t.Fatal(err)
		}
		x := e.observe(s)
		e.complete(x)
		if !x.forwarded || string(x.request.Body) != string(body) {
			t.Fatalf("forwarded=%v body=%q", x.forwarded, x.request.Body)
		}
		e.settle()
		if orig := e.subs["orig"].received(); len(orig) != 1 || string(orig[0].Body) != string(body) {
			t.Errorf("orig received %d copies", len(orig))
		}
		e.checkInvariant("orig", "raw", "audit")
	})
}
