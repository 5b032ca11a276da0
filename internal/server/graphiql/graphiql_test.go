package graphiql_test

import (
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"okrgraph/internal/browsertest"
	"okrgraph/internal/testenv"
)

// GraphiQL at / in a real, offline Chromium: the page loads from the
// binary alone, takes the Authorization and X-Org headers in its Headers
// tab and shows the answer of a query.
func TestGraphiQLRunsAQueryOffline(t *testing.T) {
	t.Parallel()
	b := browsertest.New(t, 3*time.Minute)
	e := testenv.New(t, "sqlite", testenv.Config{Demo: true})
	srv := httptest.NewServer(e.App.Handler())
	t.Cleanup(srv.Close)

	var want struct {
		Viewer struct{ User struct{ Name string } }
	}
	e.As("steve", "acme").MustDo(t, `{ viewer { user { name } } }`, nil, &want)
	name := want.Viewer.User.Name
	if name == "" {
		t.Fatal("the demo user has no name")
	}

	headers, _ := json.Marshal(map[string]string{
		"Authorization": "Bearer " + e.Token("steve@acme.example"),
		"X-Org":         "acme",
	})
	// GraphiQL's editors are CodeMirror instances; the headers editor is the
	// one holding the page's header template, the query editor the one
	// under .graphiql-query-editor.
	setEditors := `(() => {
		const cms = [...document.querySelectorAll('.CodeMirror')].map(el => el.CodeMirror);
		const headers = cms.find(cm => cm.getValue().includes('X-Org'));
		const query = document.querySelector('.graphiql-query-editor .CodeMirror').CodeMirror;
		if (!headers || !query) return false;
		headers.setValue(` + "`" + string(headers) + "`" + `);
		query.setValue('{ viewer { user { name } } }');
		return true;
	})()`
	result := `(() => {
		const el = document.querySelector('.result-window .CodeMirror');
		const text = el ? el.CodeMirror.getValue() : '';
		return text.includes('"name"') ? text : false;
	})()`
	err := chromedp.Do(b.Ctx,
		chromedp.Navigate(srv.URL+"/"),
		chromedp.WaitVisible(".graphiql-query-editor .CodeMirror"),
	)
	if err != nil {
		t.Fatalf("load GraphiQL: %v (console: %q, requests: %q)", err, b.ConsoleErrors(), b.Requests())
	}
	ok, err := chromedp.Run(b.Ctx, chromedp.Evaluate[bool](setEditors))
	if err != nil || !ok {
		t.Fatalf("set headers and query: %v %v", ok, err)
	}
	if err := chromedp.Do(b.Ctx, chromedp.Click(".graphiql-execute-button")); err != nil {
		t.Fatalf("run: %v", err)
	}
	text, err := chromedp.Run(b.Ctx, chromedp.Poll[string](result, chromedp.WithPollingInterval(100*time.Millisecond)))
	if err != nil {
		t.Fatalf("no answer shown: %v (console: %q)", err, b.ConsoleErrors())
	}
	var answer struct {
		Data struct {
			Viewer struct{ User struct{ Name string } }
		}
		Errors []any
	}
	if err := json.Unmarshal([]byte(text), &answer); err != nil || len(answer.Errors) > 0 || answer.Data.Viewer.User.Name != name {
		t.Errorf("GraphiQL shows %s, want the name %q", text, name)
	}
	if errs := b.ConsoleErrors(); len(errs) > 0 {
		t.Errorf("console errors: %q", errs)
	}
	if off := b.NonLoopback(); len(off) > 0 {
		t.Errorf("the page requested other hosts: %q", off)
	}
	var own int
	for _, u := range b.Requests() {
		if strings.HasPrefix(u, srv.URL+"/graphiql/") {
			own++
		}
	}
	if own < 4 {
		t.Errorf("the page's assets did not come from the server: %q", b.Requests())
	}
}
