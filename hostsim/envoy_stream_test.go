package hostsim

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"testing"
)

func TestEnvoy_HeaderMapBadArgumentAfterContinue(t *testing.T) {
	t.Parallel()
	h := newTestHost(t, "headers", Options{})
	res, err := h.Do(context.Background(), Request{Headers: post("/h", "x-op", "add:x-a=1"), Body: []byte("body")}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := res.Request.Headers.Value("x-a"); got != "1" {
		t.Errorf("header added in on_request_headers: forwarded x-a=%q, want 1", got)
	}
	mustLog(t, h, `op phase=request_headers map=request kind=add name="x-a" err=ok`)
	mustLog(t, h, `op phase=request_body map=request kind=add name="x-a" err=bad_argument`)
	mustLog(t, h, `get phase=request_body map=request name=":path" value="" err=bad_argument`)
	mustLog(t, h, `pairs phase=request_body map=request got=0 err=not_found`)
	mustLog(t, h, `op phase=response_headers map=request kind=add name="x-a" err=bad_argument`)
	mustLog(t, h, `op phase=response_headers map=response kind=add name="x-a" err=ok`)
	if got := res.Response.Headers.Value("x-a"); got != "1" {
		t.Errorf("response header added in on_response_headers: x-a=%q, want 1", got)
	}
}

func TestEnvoy_HeadersArriveLowerCasedWithPseudoHeadersFirst(t *testing.T) {
	t.Parallel()
	h := newTestHost(t, "headers", Options{})
	if _, err := h.Do(context.Background(), Request{Headers: get("/p", "x-custom", "v")}, nil); err != nil {
		t.Fatal(err)
	}
	lines := logLines(h, "header map=request")
	if len(lines) < 5 || !strings.Contains(lines[0], `name=":authority"`) || !strings.Contains(lines[4], `name="x-custom"`) {
		t.Fatalf("request headers as the guest read them: %q", lines)
	}
}

func TestEnvoy_PauseInHeadersWithholdsBodyByDefault(t *testing.T) {
	t.Parallel()
	h := newTestHost(t, "headers", Options{})
	s := h.NewStream(context.Background())
	if err := s.SendRequestHeaders(post("/h", "x-pause", "headers"), false); err != nil {
		t.Fatal(err)
	}
	if err := s.SendRequestBody([]byte("abc"), true); err != nil {
		t.Fatal(err)
	}
	st := s.Request()
	if st.Forwarded || !st.Paused || st.Buffered != 3 {
		t.Fatalf("StopAllIterationAndWatermark: want headers held, body buffered by the host; got %+v", st)
	}
	if lines := logLines(h, "op phase=request_body"); len(lines) != 0 {
		t.Fatalf("body callback reached the plugin while its headers were paused: %q", lines)
	}
	for _, l := range logLines(h, "get phase=request_body") {
		t.Fatalf("body callback reached the plugin while its headers were paused: %s", l)
	}
}

func TestEnvoy_AllowOnHeadersStopIterationDeliversBodyWhileHeadersHeld(t *testing.T) {
	t.Parallel()
	h := newTestHost(t, "headers", Options{Plugin: PluginConfig{AllowOnHeadersStopIteration: true}})
	res, err := h.Do(context.Background(), Request{Headers: post("/h", "x-pause", "headers", "x-op", "add:x-held=yes"),
		Body: []byte("abcdef"), Chunks: 2}, nil)
	if err != nil {
		t.Fatal(err)
	}
	mustLog(t, h, `op phase=request_body_held map=request kind=add name="x-held" err=ok`)
	mustLog(t, h, `get phase=request_body_held map=request name=":path" value="/h" err=ok`)
	mustLog(t, h, `resume phase=request_body err=ok`)
	if !res.Request.Complete || string(res.Request.Body) != "abcdef" {
		t.Fatalf("request after resume: %+v", res.Request)
	}
	if n := strings.Count(strings.Join(res.Request.Headers.values("x-held"), ","), "yes"); n < 1 {
		t.Fatalf("header added while held not forwarded: %v", res.Request.Headers)
	}
}

func TestEnvoy_BodyBufferingIsCumulative(t *testing.T) {
	t.Parallel()
	h := newTestHost(t, "body", Options{})
	body := []byte("0123456789abcdefghij")
	res, err := h.Do(context.Background(), Request{Headers: post("/b"), Body: body, Chunks: 4}, nil)
	if err != nil {
		t.Fatal(err)
	}
	chunks := logLines(h, "body_chunk dir=request")
	want := []string{"size=5", "size=10", "size=15"}
	if len(chunks) != len(want) {
		t.Fatalf("body callbacks before end of stream: %q, want sizes %v", chunks, want)
	}
	for i, w := range want {
		if !strings.Contains(chunks[i], w) {
			t.Errorf("callback %d: %q, want %s (cumulative buffered size)", i, chunks[i], w)
		}
	}
	sum := sha256.Sum256(body)
	mustLog(t, h, fmt.Sprintf("body dir=request size=20 got=20 sha256=%s err=ok", hex.EncodeToString(sum[:])))
	if string(res.Request.Body) != string(body) {
		t.Fatalf("forwarded body %q", res.Request.Body)
	}
}

func TestEnvoy_SetBufferBytesRewritesBody(t *testing.T) {
	t.Parallel()
	h := newTestHost(t, "body", Options{})
	for op, want := range map[string]string{"append:XY": "bodyXY", "prepend:XY": "XYbody", "replace:XY": "XY"} {
		res, err := h.Do(context.Background(), Request{Headers: post("/b", "x-body-op", op), Body: []byte("body")}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if string(res.Request.Body) != want {
			t.Errorf("%s: forwarded body %q, want %q", op, res.Request.Body, want)
		}
	}
}

func TestEnvoy_EmptyBodyReadReturnsNoData(t *testing.T) {
	t.Parallel()
	h := newTestHost(t, "body", Options{})
	s := h.NewStream(context.Background())
	if err := s.SendRequestHeaders(post("/b"), false); err != nil {
		t.Fatal(err)
	}
	if err := s.SendRequestBody(nil, true); err != nil {
		t.Fatal(err)
	}
	mustLog(t, h, "body dir=request size=0 got=0")
	mustLog(t, h, "err=not_found")
}

func TestEnvoy_TrailersAddableOnlyFromFinalBodyCallback(t *testing.T) {
	t.Parallel()
	h := newTestHost(t, "trailers", Options{})
	res, err := h.Do(context.Background(), Request{Headers: post("/t"), Body: []byte("abcd"), Chunks: 2}, nil)
	if err != nil {
		t.Fatal(err)
	}
	mustLog(t, h, "add_trailer dir=request eos=false err=bad_argument")
	mustLog(t, h, "add_trailer dir=request eos=true err=ok")
	if got := res.Request.Trailers.Value("x-guest-trailer"); got != "added-in-body" {
		t.Fatalf("trailers created in final body callback: %v", res.Request.Trailers)
	}
}

func TestEnvoy_TrailersReadableAndReplaceableInTrailersCallback(t *testing.T) {
	t.Parallel()
	h := newTestHost(t, "trailers", Options{})
	res, err := h.Do(context.Background(), Request{Headers: post("/t"), Body: []byte("ab"),
		Trailers: Headers{{"grpc-status", "0"}, {"x-guest-replaced", "no"}}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	mustLog(t, h, "add_trailer dir=request eos=false err=bad_argument")
	mustLog(t, h, "trailers dir=request num=2 got=2 err=ok")
	mustLog(t, h, `trailer dir=request name="grpc-status" value="0"`)
	mustLog(t, h, `replace_trailer dir=request name="x-guest-replaced" err=ok`)
	if got := res.Request.Trailers.Value("x-guest-replaced"); got != "yes" {
		t.Fatalf("forwarded trailers %v", res.Request.Trailers)
	}
}

func TestEnvoy_LocalReplyGoesThroughPluginResponsePath(t *testing.T) {
	t.Parallel()
	h := newTestHost(t, "localreply", Options{})
	called := false
	res, err := h.Do(context.Background(), Request{Headers: get("/l", "x-status", "418")}, func(RequestState) Response {
		called = true
		return Response{}
	})
	if err != nil {
		t.Fatal(err)
	}
	if called || res.Upstream {
		t.Fatal("upstream contacted after a local reply")
	}
	if res.LocalReply == nil || res.LocalReply.Status != 418 || res.LocalReply.Headers.Value("x-local-reply") != "guest" {
		t.Fatalf("local reply %+v", res.LocalReply)
	}
	mustLog(t, h, `response_headers status="418" own_reply=true err=ok`)
	mustLog(t, h, "response_body size=23 eos=true")
	if res.Response.Headers.Value(":status") != "418" || string(res.Response.Body) != "local reply from guest\n" {
		t.Fatalf("response downstream %+v", res.Response)
	}
}

func TestEnvoy_LocalReplyOverridesContinue(t *testing.T) {
	t.Parallel()
	h := newTestHost(t, "localreply", Options{})
	res, err := h.Do(context.Background(), Request{Headers: get("/l", "x-return", "continue")}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Upstream || res.Request.Forwarded || res.LocalReply == nil || res.LocalReply.Status != 403 {
		t.Fatalf("Continue after a local reply must become stop: %+v", res)
	}
}

func TestEnvoy_StreamCallbacksInEnvoyOrder(t *testing.T) {
	t.Parallel()
	h := newTestHost(t, "headers", Options{})
	s := h.NewStream(context.Background())
	if s.ID() != 0 {
		t.Fatal("context created before the first callback")
	}
	if err := s.SendRequestHeaders(get("/"), true); err != nil {
		t.Fatal(err)
	}
	if s.ID() != 2 {
		t.Fatalf("first stream context id %d, want 2 (root is 1)", s.ID())
	}
	if err := s.Complete(); err != nil {
		t.Fatal(err)
	}
}

// values returns every value of key.
func (h Headers) values(key string) []string {
	var out []string
	for _, kv := range h {
		if kv[0] == key {
			out = append(out, kv[1])
		}
	}
	return out
}
