// Package manifests_test checks the shipped Istio and Envoy manifests against the real API schemas
// (istio.io/api and Envoy's go-control-plane protos, strict: unknown fields fail) and checks that every
// embedded pluginConfig compiles with the plugin's own config compiler.
package manifests_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	bootstrapv3 "github.com/envoyproxy/go-control-plane/envoy/config/bootstrap/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	wasmfilterv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/wasm/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/wrapperspb"
	"gopkg.in/yaml.v3"
	extv1alpha1 "istio.io/api/extensions/v1alpha1"
	netv1alpha3 "istio.io/api/networking/v1alpha3"

	// Registered so protojson can resolve the typed_config Any values used in the manifests.
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/router/v3"

	"github.com/eventroute/eventroute/filters"
)

// document is one Kubernetes object from a manifest file.
type document struct {
	file string
	kind string
	name string
	spec []byte // JSON
}

func readDocuments(t *testing.T, pattern string) []document {
	t.Helper()
	files, err := filepath.Glob(pattern)
	if err != nil || len(files) == 0 {
		t.Fatalf("no manifests match %s (err %v)", pattern, err)
	}
	var docs []document
	for _, file := range files {
		raw, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		dec := yaml.NewDecoder(bytes.NewReader(raw))
		for {
			var obj struct {
				APIVersion string         `yaml:"apiVersion"`
				Kind       string         `yaml:"kind"`
				Metadata   map[string]any `yaml:"metadata"`
				Spec       map[string]any `yaml:"spec"`
			}
			if err := dec.Decode(&obj); errors.Is(err, io.EOF) {
				break
			} else if err != nil {
				t.Fatalf("%s: %v", file, err)
			}
			spec, err := json.Marshal(obj.Spec)
			if err != nil {
				t.Fatalf("%s: %v", file, err)
			}
			name, _ := obj.Metadata["name"].(string)
			docs = append(docs, document{file: file, kind: obj.Kind, name: name, spec: spec})
		}
	}
	return docs
}

func strictUnmarshal(t *testing.T, where string, data []byte, m proto.Message) {
	t.Helper()
	if err := (protojson.UnmarshalOptions{}).Unmarshal(data, m); err != nil {
		t.Fatalf("%s: does not match the %T schema: %v", where, m, err)
	}
}

// compilePluginConfig compiles an embedded pluginConfig and returns its holdHeaders setting.
func compilePluginConfig(t *testing.T, where string, config []byte) bool {
	t.Helper()
	router, err := filters.Compile(config)
	if err != nil {
		t.Fatalf("%s: pluginConfig does not compile: %v", where, err)
	}
	return router.Config().HoldHeaders
}

// checkWasmFilter validates an Envoy Wasm filter config and its embedded plugin configuration, and that
// "holdHeaders": true is only ever deployed together with allow_on_headers_stop_iteration (SPEC §1).
func checkWasmFilter(t *testing.T, where string, w *wasmfilterv3.Wasm) {
	t.Helper()
	if err := w.ValidateAll(); err != nil {
		t.Fatalf("%s: invalid Wasm filter: %v", where, err)
	}
	var configuration wrapperspb.StringValue
	if err := w.GetConfig().GetConfiguration().UnmarshalTo(&configuration); err != nil {
		t.Fatalf("%s: configuration is not a StringValue: %v", where, err)
	}
	hold := compilePluginConfig(t, where, []byte(configuration.GetValue()))
	allow := w.GetConfig().GetAllowOnHeadersStopIteration().GetValue()
	if hold != allow {
		t.Fatalf("%s: holdHeaders=%v but allow_on_headers_stop_iteration=%v: they must agree", where, hold, allow)
	}
}

func TestIstioManifestsMatchIstioSchemas(t *testing.T) {
	kinds := map[string]int{}
	for _, d := range readDocuments(t, "istio/*.yaml") {
		where := d.file + ": " + d.kind + "/" + d.name
		kinds[d.kind]++
		switch d.kind {
		case "WasmPlugin":
			var wp extv1alpha1.WasmPlugin
			strictUnmarshal(t, where, d.spec, &wp)
			if wp.GetSelector() == nil && len(wp.GetTargetRefs()) == 0 {
				t.Errorf("%s: no selector: the plugin would apply to every workload", where)
			}
			config, err := protojson.Marshal(wp.GetPluginConfig())
			if err != nil {
				t.Fatal(err)
			}
			if compilePluginConfig(t, where, config) {
				t.Errorf("%s: holdHeaders needs allow_on_headers_stop_iteration, which WasmPlugin cannot set", where)
			}
		case "EnvoyFilter":
			var ef netv1alpha3.EnvoyFilter
			strictUnmarshal(t, where, d.spec, &ef)
			for i, p := range ef.GetConfigPatches() {
				if p.GetApplyTo() != netv1alpha3.EnvoyFilter_EXTENSION_CONFIG {
					continue
				}
				value, err := protojson.Marshal(p.GetPatch().GetValue())
				if err != nil {
					t.Fatal(err)
				}
				var ext corev3.TypedExtensionConfig
				strictUnmarshal(t, where, value, &ext)
				var w wasmfilterv3.Wasm
				if err := ext.GetTypedConfig().UnmarshalTo(&w); err != nil {
					t.Fatalf("%s: patch %d is not a Wasm filter: %v", where, i, err)
				}
				checkWasmFilter(t, where, &w)
			}
		case "Gateway":
			strictUnmarshal(t, where, d.spec, &netv1alpha3.Gateway{})
		case "VirtualService":
			strictUnmarshal(t, where, d.spec, &netv1alpha3.VirtualService{})
		default:
			t.Errorf("%s: unexpected kind", where)
		}
	}
	for _, kind := range []string{"WasmPlugin", "EnvoyFilter", "Gateway", "VirtualService"} {
		if kinds[kind] == 0 {
			t.Errorf("no %s shipped", kind)
		}
	}
}

func TestEnvoyBootstrapIsValid(t *testing.T) {
	raw, err := os.ReadFile("envoy/envoy.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var tree map[string]any
	if err := yaml.Unmarshal(raw, &tree); err != nil {
		t.Fatal(err)
	}
	data, err := json.Marshal(tree)
	if err != nil {
		t.Fatal(err)
	}
	var bootstrap bootstrapv3.Bootstrap
	strictUnmarshal(t, "envoy/envoy.yaml", data, &bootstrap)
	if err := bootstrap.ValidateAll(); err != nil {
		t.Fatalf("envoy/envoy.yaml: %v", err)
	}
	found := 0
	for _, l := range bootstrap.GetStaticResources().GetListeners() {
		for _, fc := range l.GetFilterChains() {
			for _, f := range fc.GetFilters() {
				var hcm hcmv3.HttpConnectionManager
				if f.GetTypedConfig().UnmarshalTo(&hcm) != nil {
					continue
				}
				filters := hcm.GetHttpFilters()
				for i, hf := range filters {
					var w wasmfilterv3.Wasm
					if hf.GetTypedConfig().UnmarshalTo(&w) != nil {
						continue
					}
					found++
					checkWasmFilter(t, "envoy/envoy.yaml", &w)
					if i == len(filters)-1 {
						t.Errorf("the wasm filter must come before the router")
					}
				}
			}
		}
	}
	if found != 1 {
		t.Fatalf("want exactly one eventroute wasm filter, found %d", found)
	}
}
