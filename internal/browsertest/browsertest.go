// Package browsertest runs pages in a real, headless Chromium for tests
// (through chromedp, the Chrome DevTools Protocol).
//
// The browser is offline: it may reach loopback addresses only (every other
// host fails to resolve and would go to a dead proxy), and NonLoopback
// reports any request the page tried elsewhere. Tests using it are skipped
// when no Chromium is installed, except under CI (CI=true), where a missing
// browser fails them: CI installs Debian's chromium package (.ci/run).
package browsertest

import (
	"context"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// Candidates are the executable names looked up on PATH, in order;
// OKRGRAPH_CHROMIUM overrides them with a path.
var Candidates = []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"}

// Find returns the browser to use, "" when none is installed.
func Find() string {
	if p := os.Getenv("OKRGRAPH_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range Candidates {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// Browser is one headless Chromium with a fresh profile, and what its
// pages did.
type Browser struct {
	// Ctx runs chromedp actions in the browser's first tab.
	Ctx context.Context

	mu       sync.Mutex
	requests []string
	console  []string
}

// New starts a headless Chromium for the test, closed when it ends. It
// skips the test when no browser is installed, or fails it under CI.
// timeout bounds everything the test does in the browser (generous: a
// loaded CI machine is slow, and a hung page should still end the test).
func New(t testing.TB, timeout time.Duration) *Browser {
	t.Helper()
	path := Find()
	if path == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("no Chromium found (CI=true): install Debian's chromium package, or set OKRGRAPH_CHROMIUM")
		}
		t.Skip("no Chromium installed (apt-get install chromium); skipped outside CI")
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("no-default-browser-check", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("mute-audio", true),
		// Offline but for loopback: no name resolves, and anything not on
		// loopback goes to a proxy that refuses connections.
		chromedp.Flag("host-resolver-rules", "MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1"),
		chromedp.ProxyServer("http://127.0.0.1:9"),
		chromedp.WindowSize(1280, 900),
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	b := &Browser{}
	ctx, cancelCtx := chromedp.NewContext(allocCtx, chromedp.WithListener(b.record))
	ctx, cancelTimeout := context.WithTimeout(ctx, timeout)
	t.Cleanup(func() {
		cancelTimeout()
		cancelCtx()
		cancelAlloc()
	})
	b.Ctx = ctx
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start Chromium (%s): %v", path, err)
	}
	if _, err := chromedp.Call(ctx, network.Enable, network.EnableParams{}); err != nil {
		t.Fatalf("Chromium: enable network events: %v", err)
	}
	return b
}

// record keeps the requests and console errors of the tab (it runs on the
// tab's reader goroutine: no commands, no blocking).
func (b *Browser) record(ev any) {
	b.mu.Lock()
	defer b.mu.Unlock()
	switch ev := ev.(type) {
	case *network.EventRequestWillBeSent:
		b.requests = append(b.requests, ev.Request.URL)
	case *runtime.EventConsoleAPICalled:
		if ev.Type == runtime.ConsoleAPICalledTypeError {
			var parts []string
			for _, a := range ev.Args {
				if len(a.Value) > 0 {
					parts = append(parts, string(a.Value))
				} else {
					parts = append(parts, a.Description)
				}
			}
			b.console = append(b.console, strings.Join(parts, " "))
		}
	case *runtime.EventExceptionThrown:
		d := ev.ExceptionDetails
		msg := d.Text
		if d.Exception != nil {
			msg += " " + d.Exception.Description
		}
		b.console = append(b.console, msg)
	}
}

// NonLoopback lists the URLs the pages requested from anywhere but a
// loopback address (data: and blob: URLs excepted).
func (b *Browser) NonLoopback() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []string
	for _, raw := range b.requests {
		u, err := url.Parse(raw)
		if err != nil {
			out = append(out, raw)
			continue
		}
		switch u.Scheme {
		case "data", "blob", "about":
			continue
		}
		switch u.Hostname() {
		case "127.0.0.1", "::1", "localhost":
			continue
		}
		out = append(out, raw)
	}
	return out
}

// Requests lists every URL the pages requested.
func (b *Browser) Requests() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.requests...)
}

// ConsoleErrors lists console.error messages and uncaught exceptions.
func (b *Browser) ConsoleErrors() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.console...)
}
