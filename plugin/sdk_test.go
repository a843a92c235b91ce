//go:build !wasm

package main_test

import (
	"bytes"
	"context"
	"io"
	nethttp "net/http"
	"net/url"
	"strings"
	"testing"

	cloudevents "github.com/cloudevents/sdk-go/v2"
	"github.com/cloudevents/sdk-go/v2/binding"
	ceevent "github.com/cloudevents/sdk-go/v2/event"
	cehttp "github.com/cloudevents/sdk-go/v2/protocol/http"
	"github.com/eventroute/eventroute/hostsim"
)

// decodeEvent reads a delivered message with the CloudEvents Go SDK.
func decodeEvent(t testing.TB, c hostsim.CallRequest) *ceevent.Event {
	t.Helper()
	header := nethttp.Header{}
	for _, kv := range c.Headers {
		if strings.HasPrefix(kv[0], ":") {
			continue
		}
		v := kv[1]
		if strings.HasPrefix(kv[0], "ce-") {
			// The HTTP binding percent-encodes header values; the Go SDK does not decode them.
			d, err := url.PathUnescape(v)
			if err != nil {
				t.Fatalf("%s: header %s=%q is not valid percent-encoding", c.Cluster, kv[0], v)
			}
			v = d
		}
		header.Add(kv[0], v)
	}
	ev, err := binding.ToEvent(context.Background(), cehttp.NewMessage(header, io.NopCloser(bytes.NewReader(c.Body))))
	if err != nil {
		t.Fatalf("%s: not a CloudEvent (%v): headers %v body %q", c.Cluster, err, c.Headers, c.Body)
	}
	return ev
}

// throughPlugin is an http.RoundTripper that sends each request through the
// plugin in hostsim and answers with what the client would get: the local
// reply, or 200 from the upstream.
type throughPlugin struct {
	e    *env
	seen []*exchange
}

func (rt *throughPlugin) RoundTrip(req *nethttp.Request) (*nethttp.Response, error) {
	headers := hostsim.Headers{{":method", req.Method}, {":path", req.URL.RequestURI()}, {":authority", req.URL.Host},
		{":scheme", "http"}}
	for k, vs := range req.Header {
		for _, v := range vs {
			headers = append(headers, [2]string{strings.ToLower(k), v})
		}
	}
	var body []byte
	if req.Body != nil {
		b, err := io.ReadAll(req.Body)
		if err != nil {
			return nil, err
		}
		body = b
	}
	x := rt.e.do(headers, body)
	rt.seen = append(rt.seen, x)
	resp := &nethttp.Response{StatusCode: 200, Header: nethttp.Header{}, Body: io.NopCloser(bytes.NewReader(nil)), Request: req}
	if x.reply != nil {
		resp.StatusCode = x.reply.Status
		resp.Body = io.NopCloser(bytes.NewReader(x.reply.Body))
	}
	return resp, nil
}

func TestSDKClient_PublishesATransferThatIsRoutedAndMirrored(t *testing.T) {
	forModes(t, func(t *testing.T, mode hostMode) {
		e := modeEnv(t, mode, "")
		rt := &throughPlugin{e: e}
		for _, structured := range []bool{false, true} {
			p, err := cloudevents.NewHTTP(cehttp.WithRoundTripper(rt), cloudevents.WithTarget("http://gateway.bank/publish"))
			if err != nil {
				t.Fatal(err)
			}
			c, err := cloudevents.NewClient(p)
			if err != nil {
				t.Fatal(err)
			}
			ev := cloudevents.NewEvent()
			ev.SetID("sdk-1")
			ev.SetSource("Bank")
			ev.SetType("转账")
			ev.SetSubject("Account")
			if err := ev.SetData(cloudevents.ApplicationJSON, map[string]int{"amount": 42}); err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			if structured {
				ctx = binding.WithForceStructured(ctx)
			}
			if res := c.Send(ctx, ev); cloudevents.IsUndelivered(res) {
				t.Fatalf("send: %v", res)
			}
			x := rt.seen[len(rt.seen)-1]
			wantRouted := !structured || mode.hold
			if got := x.request.Headers.Value("x-eventroute-subscriber") == "accounts"; got != wantRouted {
				t.Errorf("structured=%v: routed=%v, want %v", structured, got, wantRouted)
			}
		}
		e.settle()
		audit := e.subs["audit"].received()
		if len(audit) != 2 {
			t.Fatalf("audit got %d copies, want 2", len(audit))
		}
		for _, c := range audit {
			got := decodeEvent(t, c)
			if got.ID() != "sdk-1" || got.Type() != "转账" || string(got.Data()) != `{"amount":42}` {
				t.Errorf("audit copy %v", got)
			}
		}
		e.wantMetrics(map[string]uint64{"events.binary": 1, "events.structured": 1})
		e.checkInvariant("audit")
	})
}
