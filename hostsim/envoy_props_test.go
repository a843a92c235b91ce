package hostsim

import (
	"context"
	"testing"
	"time"
)

func TestEnvoy_PropertiesWithEnvoyEncodings(t *testing.T) {
	t.Parallel()
	cfg := "request.path\nrequest.url_path\nrequest.method\nrequest.host\nrequest.headers.x-foo\nint64 source.port\n" +
		"source.address\nconnection.uri_san_peer_certificate\nbool connection.mtls\nplugin_name\nplugin_root_id\n" +
		"plugin_vm_id\nxds.cluster_name\nxds.node.id\nint64 response.code\nnode.id\n"
	h := newTestHost(t, "properties", Options{
		Plugin: PluginConfig{Name: "props", RootID: "root-a", VMID: "vm-a", Configuration: []byte(cfg)},
		Peer:   Peer{SourceAddress: "10.0.0.7:5555", URISAN: "spiffe://cluster.local/ns/bank/sa/core"},
		XDS:    XDS{ClusterName: "outbound|80||svc", NodeID: "sidecar~10.0.0.1~pod.ns~ns.svc.cluster.local"},
	})
	if _, err := h.Do(context.Background(), Request{Headers: get("/a/b?q=1", "x-foo", "bar")},
		func(RequestState) Response { return Response{Headers: Headers{{":status", "201"}}} }); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`prop phase=request_headers path="request.path" type=string value="/a/b?q=1" err=ok`,
		`prop phase=request_headers path="request.url_path" type=string value="/a/b" err=ok`,
		`prop phase=request_headers path="request.method" type=string value="GET" err=ok`,
		`prop phase=request_headers path="request.host" type=string value="example.com" err=ok`,
		`prop phase=request_headers path="request.headers.x-foo" type=string value="bar" err=ok`,
		`prop phase=request_headers path="source.port" type=int64 value=5555 err=ok`,
		`prop phase=request_headers path="source.address" type=string value="10.0.0.7:5555" err=ok`,
		`prop phase=request_headers path="connection.uri_san_peer_certificate" type=string value="spiffe://cluster.local/ns/bank/sa/core" err=ok`,
		`prop phase=request_headers path="connection.mtls" type=bool value=true err=ok`,
		`prop phase=plugin_start path="plugin_name" type=string value="props" err=ok`,
		`prop phase=plugin_start path="plugin_root_id" type=string value="root-a" err=ok`,
		`prop phase=plugin_start path="plugin_vm_id" type=string value="vm-a" err=ok`,
		`prop phase=plugin_start path="xds.cluster_name" type=string value="outbound|80||svc" err=ok`,
		`prop phase=plugin_start path="xds.node.id" type=string value="sidecar~10.0.0.1~pod.ns~ns.svc.cluster.local" err=ok`,
		`prop phase=response_headers path="response.code" type=int64 value=201 err=ok`,
		`prop phase=log path="request.path" type=string value="/a/b?q=1" err=ok`,
	} {
		mustLog(t, h, want)
	}
}

func TestEnvoy_RequestPropertiesGoneAfterHeadersContinue(t *testing.T) {
	t.Parallel()
	h := newTestHost(t, "properties", Options{Plugin: PluginConfig{Configuration: []byte("request.path")}})
	if _, err := h.Do(context.Background(), Request{Headers: get("/p")}, nil); err != nil {
		t.Fatal(err)
	}
	mustLog(t, h, `prop phase=response_headers path="request.path" type=string value="" err=not_found`)
	mustLog(t, h, `prop phase=plugin_start path="request.path" type=string value="" err=not_found`)
}

func TestEnvoy_LegacyNodePropertyRemovedSince133(t *testing.T) {
	t.Parallel()
	h := newTestHost(t, "properties", Options{Plugin: PluginConfig{Configuration: []byte("node.id\ncluster_name")},
		XDS: XDS{NodeID: "n1", ClusterName: "c"}})
	if _, err := h.Do(context.Background(), Request{Headers: get("/p")}, nil); err != nil {
		t.Fatal(err)
	}
	mustLog(t, h, `prop phase=request_headers path="node.id" type=string value="" err=not_found`)
	mustLog(t, h, `prop phase=request_headers path="cluster_name" type=string value="" err=not_found`)
}

func TestEnvoy_SetPropertyIsFilterStateNotFoundOnRoot(t *testing.T) {
	t.Parallel()
	h := newTestHost(t, "properties", Options{})
	if _, err := h.Do(context.Background(), Request{Headers: get("/p")}, nil); err != nil {
		t.Fatal(err)
	}
	mustLog(t, h, `set_property phase=plugin_start path="guest_mark" err=not_found`)
	mustLog(t, h, `set_property phase=request_headers path="guest_mark" err=ok`)
	mustLog(t, h, `get_property phase=log path="guest_mark" value="mark-from-guest" err=ok`)
}

func TestEnvoy_RequestTimeAndDurationAreNanoseconds(t *testing.T) {
	t.Parallel()
	clock := NewVirtualClock(time.Unix(1700000000, 0))
	h := newTestHost(t, "properties", Options{Clock: clock,
		Plugin: PluginConfig{Configuration: []byte("int64 request.time\nint64 request.duration")}})
	s := h.NewStream(context.Background())
	if err := s.SendRequestHeaders(get("/"), true); err != nil {
		t.Fatal(err)
	}
	clock.Advance(5 * time.Millisecond)
	if err := s.SendResponseHeaders(Headers{{":status", "200"}}, true); err != nil {
		t.Fatal(err)
	}
	if err := s.Complete(); err != nil {
		t.Fatal(err)
	}
	mustLog(t, h, `prop phase=log path="request.time" type=int64 value=1700000000000000000 err=ok`)
	mustLog(t, h, `prop phase=log path="request.duration" type=int64 value=5000000 err=ok`)
}

func TestEnvoy_EmptyValueCopiedOutWithoutAllocation(t *testing.T) {
	t.Parallel()
	// The Go SDK's proxy_on_memory_allocate panics on size 0: Envoy writes ptr 0, size 0 and Ok instead.
	h := newTestHost(t, "properties", Options{Plugin: PluginConfig{Configuration: []byte("request.headers.x-empty")}})
	if _, err := h.Do(context.Background(), Request{Headers: get("/", "x-empty", "")}, nil); err != nil {
		t.Fatal(err)
	}
	mustLog(t, h, `prop phase=request_headers path="request.headers.x-empty" type=string value="" err=ok`)
	if h.Failed(0) != nil {
		t.Fatal(h.Failed(0))
	}
}
