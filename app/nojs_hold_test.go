package app_test

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"regexp"
	"runtime"
	"strings"
	"testing"

	"github.com/sluicehq/sluice/room"
)

// The waiting page without JavaScript learns of a turn at once, as the
// page's script does with the status API's long poll: near the front its
// refresh goes at once to the page with ?wait=10, which the server holds
// until the turn comes; farther back the page refreshes after
// poll_after as before and ?wait= holds nothing. The turn comes when the
// place ahead is given back (no clock, no timing).
func TestNoScriptPageHeldUntilTurn(t *testing.T) {
	a := startServer(t, nil)
	base := a.URL()
	rm, _ := a.Rooms.Get("e2e")
	alice := join(t, base, "e2e") // the room's one place
	if alice.State != "admitted" {
		t.Fatalf("alice: %+v", alice)
	}

	// Bob has no JavaScript and is next: his page refreshes at once to
	// the held address.
	jar, _ := cookiejar.New(nil)
	bob := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, b := send(t, bob, "GET", base+"/wait/e2e?return=/protected", nil, "")
	hold := `<meta http-equiv="refresh" content="0; url=/wait/e2e?return=%2Fprotected&amp;wait=10">`
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(b), hold) {
		t.Fatalf("bob's page near the front: %d, want it refreshing at once to the held address:\n%s", resp.StatusCode, b)
	}
	// Bob's browser follows it; the server holds the request...
	answer := make(chan *http.Response, 1)
	go func() {
		resp, err := bob.Get(base + "/wait/e2e?return=%2Fprotected&wait=10")
		if err != nil {
			t.Error(err)
			close(answer)
			return
		}
		resp.Body.Close()
		answer <- resp
	}()
	until(t, "bob's page is held", func() bool { return rm.HeldStatuses() == 1 })
	// ...until alice gives her place back: then it answers, sending him on
	// with his pass.
	if resp, b := do(t, "POST", base+"/api/v1/rooms/e2e/leave", map[string]string{"Authorization": "Bearer " + alice.Pass}, ""); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("alice leaves: %d %s", resp.StatusCode, b)
	}
	resp = <-answer
	if resp == nil {
		return
	}
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/protected" || !hasCookie(resp, room.PassCookie) {
		t.Fatalf("bob's held page at his turn: %d to %q, want 303 to /protected with the pass", resp.StatusCode, resp.Header.Get("Location"))
	}

	// Far back (a room admitting one person every 100 s): the page
	// refreshes after poll_after, and ?wait= is answered without holding.
	admin := map[string]string{"Authorization": "Bearer " + adminToken}
	if resp, b := do(t, "PUT", base+"/api/v1/admin/rooms/slow", admin, `{"capacity":1,"rate":0.01}`); resp.StatusCode != http.StatusCreated {
		t.Fatalf("PUT slow: %d %s", resp.StatusCode, b)
	}
	slow, _ := a.Rooms.Get("slow")
	if st := join(t, base, "slow"); st.State != "admitted" {
		t.Fatalf("the slow room's first: %+v", st)
	}
	jar, _ = cookiejar.New(nil)
	carol := &http.Client{Jar: jar}
	send(t, carol, "GET", base+"/wait/slow", nil, "") // joins
	done := make(chan struct{})
	held := false
	var err error
	go func() {
		defer close(done)
		if resp, err = carol.Get(base + "/wait/slow?wait=10"); err == nil {
			b, err = io.ReadAll(resp.Body)
			resp.Body.Close()
		}
	}()
	for waiting := true; waiting; runtime.Gosched() {
		select {
		case <-done:
			waiting = false
		default:
			held = held || slow.HeldStatuses() > 0
		}
	}
	if err != nil {
		t.Fatal(err)
	}
	if held || resp.StatusCode != http.StatusOK || strings.Contains(string(b), `content="0; url=`) || !regexp.MustCompile(`<meta http-equiv="refresh" content="\d+">`).Match(b) {
		t.Fatalf("carol far back: held %v, %d, want the page at once refreshing after poll_after:\n%s", held, resp.StatusCode, b)
	}
}

func hasCookie(resp *http.Response, name string) bool {
	for _, c := range resp.Cookies() {
		if c.Name == name && c.Value != "" {
			return true
		}
	}
	return false
}
