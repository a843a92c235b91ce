package mesh

import "strings"

// RouteFor returns the first route whose match holds for the request headers
// (lower-case keys, pseudo-headers included), as Envoy's route table does.
func (m *Mesh) RouteFor(headers [][2]string) (Route, bool) {
	for _, r := range m.Routes {
		if r.Match.Matches(headers) {
			return r, true
		}
	}
	return Route{}, false
}

// Matches reports whether every condition of the match holds for headers.
func (rm RouteMatch) Matches(headers [][2]string) bool {
	path := headerValue(headers, ":path")
	if rm.Authority != "" && !authorityMatches(rm.Authority, headerValue(headers, ":authority")) {
		return false
	}
	if rm.Prefix != "" && !strings.HasPrefix(path, rm.Prefix) {
		return false
	}
	if rm.Path != "" {
		p, _, _ := strings.Cut(path, "?")
		if p != rm.Path {
			return false
		}
	}
	if h := rm.Header; h != nil {
		v, ok := lookup(headers, h.Name)
		if !ok || (h.Exact != "" && v != h.Exact) {
			return false
		}
	}
	return true
}

// authorityMatches compares case-insensitively; a pattern without a port also
// matches the authority with any port, as Envoy's virtual host domains do.
func authorityMatches(pattern, authority string) bool {
	if strings.EqualFold(pattern, authority) {
		return true
	}
	if i := strings.LastIndexByte(authority, ':'); i > 0 && !strings.Contains(pattern, ":") && !strings.HasSuffix(authority, "]") {
		return strings.EqualFold(pattern, authority[:i])
	}
	return false
}

func headerValue(headers [][2]string, name string) string {
	v, _ := lookup(headers, name)
	return v
}

func lookup(headers [][2]string, name string) (string, bool) {
	for _, h := range headers {
		if h[0] == name {
			return h[1], true
		}
	}
	return "", false
}
