package handoff

import "testing"

func TestRequestCloses(t *testing.T) {
	for _, c := range []struct {
		req  string
		want bool
	}{
		{"GET / HTTP/1.1\r\nHost: a\r\n\r\n", false},
		{"GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n", true},
		{"GET / HTTP/1.1\r\nhost: a\r\nCONNECTION:Close\r\n\r\n", true},
		{"GET / HTTP/1.1\r\nConnection: keep-alive, close\r\n\r\n", true},
		{"GET / HTTP/1.1\r\nConnection: Upgrade\r\n\r\n", false},
		{"GET / HTTP/1.1\r\nX-Note: connection: close\r\n\r\n", false},
		{"GET / HTTP/1.0\r\nHost: a\r\n\r\n", true},
		{"GET / http/1.0\r\n\r\n", true},
		{"GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", false},
		// the head is cut at its end: a body that looks like a header does not count
		{"POST / HTTP/1.1\r\nContent-Length: 19\r\n\r\nConnection: close\r\n", false},
		// a head read in part (the rest still on the wire)
		{"GET / HTTP/1.1\r\nConnection: clo", false},
		{"GET / HTTP/1.0", true},
	} {
		if got := requestCloses([]byte(c.req)); got != c.want {
			t.Errorf("requestCloses(%q) = %v, want %v", c.req, got, c.want)
		}
	}
}

// It runs on every response, so it must not allocate.
func TestRequestClosesDoesNotAllocate(t *testing.T) {
	req := []byte("GET /v1/items HTTP/1.1\r\nHost: api.example.com\r\nUser-Agent: wrk\r\nAccept: */*\r\nConnection: keep-alive\r\n\r\n")
	if n := testing.AllocsPerRun(100, func() { requestCloses(req) }); n != 0 {
		t.Fatalf("%v allocations per call", n)
	}
}
