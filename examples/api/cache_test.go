package main

import (
	"bufio"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// respServer speaks enough RESP2 over real TCP on 127.0.0.1 for the client: AUTH, GET, SET, DEL.
// It records the commands it saw, so a test can check what went over the wire.
type respServer struct {
	ln       net.Listener
	password string
	mu       sync.Mutex
	data     map[string]string
	seen     []string
	conns    []net.Conn
}

// stop closes the listener and every open connection, as a stopped container would.
func (s *respServer) stop() {
	s.ln.Close()
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range s.conns {
		c.Close()
	}
}

func startRESP(t *testing.T, password string) *respServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &respServer{ln: ln, password: password, data: map[string]string{}}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s.mu.Lock()
			s.conns = append(s.conns, c)
			s.mu.Unlock()
			go s.serve(c)
		}
	}()
	t.Cleanup(func() { ln.Close() })
	return s
}

func (s *respServer) serve(c net.Conn) {
	defer c.Close()
	r := bufio.NewReader(c)
	authed := s.password == ""
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		n, _ := strconv.Atoi(strings.TrimSpace(line[1:]))
		args := make([]string, n)
		for i := range args {
			l, _ := r.ReadString('\n')
			size, _ := strconv.Atoi(strings.TrimSpace(l[1:]))
			buf := make([]byte, size+2)
			if _, err := io.ReadFull(r, buf); err != nil {
				return
			}
			args[i] = string(buf[:size])
		}
		s.mu.Lock()
		s.seen = append(s.seen, args[0])
		var reply string
		switch {
		case args[0] == "AUTH":
			if args[len(args)-1] == s.password {
				authed, reply = true, "+OK\r\n"
			} else {
				reply = "-WRONGPASS invalid username-password pair\r\n"
			}
		case !authed:
			reply = "-NOAUTH Authentication required.\r\n"
		case args[0] == "GET":
			if v, ok := s.data[args[1]]; ok {
				reply = "$" + strconv.Itoa(len(v)) + "\r\n" + v + "\r\n"
			} else {
				reply = "$-1\r\n"
			}
		case args[0] == "SET":
			s.data[args[1]] = args[2]
			reply = "+OK\r\n"
		case args[0] == "DEL":
			_, ok := s.data[args[1]]
			delete(s.data, args[1])
			reply = ":" + map[bool]string{true: "1", false: "0"}[ok] + "\r\n"
		}
		s.mu.Unlock()
		if _, err := c.Write([]byte(reply)); err != nil {
			return
		}
	}
}

func cachedApp(t *testing.T, url string) (*App, string) {
	t.Helper()
	app, srv := testApp(t, &MemStore{}, nil)
	app.dbState.Store(dbReady)
	c, err := NewRESP(url, CacheTimeout)
	if err != nil {
		t.Fatal(err)
	}
	app.UseCache(c)
	return app, srv.URL
}

func xCache(t *testing.T, url string) string {
	t.Helper()
	resp, body := do(t, "GET", url+"/v1/items", "", nil)
	if resp.StatusCode != 200 {
		t.Fatalf("GET /v1/items: %d %v", resp.StatusCode, body)
	}
	return resp.Header.Get("X-Cache")
}

func TestItemsListIsCachedAndACreateDropsIt(t *testing.T) {
	s := startRESP(t, "s3cret")
	_, base := cachedApp(t, "redis://:s3cret@"+s.ln.Addr().String()+"/0")
	if got := xCache(t, base); got != "miss" {
		t.Fatalf("first read: X-Cache %q, want miss", got)
	}
	if got := xCache(t, base); got != "hit" {
		t.Fatalf("second read: X-Cache %q, want hit", got)
	}
	if resp, _ := do(t, "POST", base+"/v1/items", `{"name":"new"}`, nil); resp.StatusCode != 201 {
		t.Fatalf("create: %d", resp.StatusCode)
	}
	resp, body := do(t, "GET", base+"/v1/items", "", nil)
	if resp.Header.Get("X-Cache") != "miss" || len(body["items"].([]any)) != 1 {
		t.Fatalf("after a create: X-Cache %q, %v; want a miss with the new item", resp.Header.Get("X-Cache"), body)
	}
	// Another limit is never cached (one key, so a create invalidates exactly).
	if resp, _ := do(t, "GET", base+"/v1/items?limit=5", "", nil); resp.Header.Get("X-Cache") != "" {
		t.Fatalf("limit=5: X-Cache %q, want none", resp.Header.Get("X-Cache"))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.seen[0] != "AUTH" {
		t.Fatalf("first command %q, want AUTH", s.seen[0])
	}
}

func TestItemsServeFromTheStoreWhileTheCacheIsDown(t *testing.T) {
	s := startRESP(t, "")
	_, base := cachedApp(t, "redis://"+s.ln.Addr().String())
	xCache(t, base)
	s.stop()
	t0 := time.Now()
	for i := 0; i < 20; i++ {
		if got := xCache(t, base); got != "down" {
			t.Fatalf("read %d with the cache down: X-Cache %q, want down", i, got)
		}
	}
	// One bounded failure, then the pause: 20 reads take far less than 20 timeouts.
	if d := time.Since(t0); d > 20*CacheTimeout {
		t.Fatalf("20 reads took %s with the cache down", d)
	}
}

func TestWrongCachePasswordIsDownNotAnError(t *testing.T) {
	s := startRESP(t, "right")
	_, base := cachedApp(t, "redis://:wrong@"+s.ln.Addr().String())
	if got := xCache(t, base); got != "down" {
		t.Fatalf("X-Cache %q, want down", got)
	}
}

func TestNewRESPParsesURLs(t *testing.T) {
	c, err := NewRESP("rediss://default:p%40ss@cache.example.com:25061", time.Second)
	if err != nil || c.tls == nil || c.user != "default" || c.password != "p@ss" || c.addr != "cache.example.com:25061" {
		t.Fatalf("rediss: %+v %v", c, err)
	}
	if _, err := NewRESP("http://x", time.Second); err == nil {
		t.Fatal("http:// accepted")
	}
	if _, err := NewRESP("redis://:pw@h:6379/x", time.Second); err == nil {
		t.Fatal("a non-numeric database accepted")
	}
	_, err = NewRESP("redis://:hunter2@h:6379/\x00", time.Second)
	if err == nil || strings.Contains(err.Error(), "hunter2") {
		t.Fatalf("a bad URL's error must not repeat it: %v", err)
	}
}
