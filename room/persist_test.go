package room

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sluicehq/sluice/clock"
)

// memStore is an in-memory Persister that stores JSON, like FileStore.
type memStore struct {
	mu    sync.Mutex
	data  map[string][]byte
	saves int
	fail  error // Save fails with it when set
}

func newMemStore() *memStore { return &memStore{data: map[string][]byte{}} }

func (m *memStore) Load(room string) (*Snapshot, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	b, ok := m.data[room]
	if !ok {
		return nil, nil
	}
	var s Snapshot
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, err
	}
	return &s, nil
}

func (m *memStore) Save(room string, s *Snapshot) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fail != nil {
		return m.fail
	}
	b, err := json.Marshal(s)
	if err != nil {
		return err
	}
	m.data[room] = b
	m.saves++
	return nil
}

func (m *memStore) snapshot(t testing.TB, room string) *Snapshot {
	t.Helper()
	s, err := m.Load(room)
	if err != nil || s == nil {
		t.Fatalf("no snapshot of %q: %v", room, err)
	}
	return s
}

func (m *memStore) setFail(err error) {
	m.mu.Lock()
	m.fail = err
	m.mu.Unlock()
}

// restart builds a new room ("another process") from the same store.
func restart(t testing.TB, s Settings, keys *Keyring, clk clock.Clock, store Persister) *Room {
	t.Helper()
	if s.Name == "" {
		s.Name = "vaccine"
	}
	r, err := New(s, keys, clk, store)
	if err != nil {
		t.Fatalf("restart: %v", err)
	}
	return r
}

type placeOf struct {
	State    State
	Position uint64
	Pass     bool
}

func placesOf(t testing.TB, r *Room, tickets []Ticket) []placeOf {
	t.Helper()
	var out []placeOf
	for _, tk := range tickets {
		st, err := r.Status(tk)
		if err != nil {
			t.Fatalf("Status(%+v): %v", tk, err)
		}
		out = append(out, placeOf{st.State, st.Position, st.Pass != ""})
	}
	return out
}

// TestFileStoreRestartKeepsPlaces: after a restart from the state file every
// ticket has its exact place, sessions are still active, and new tickets get
// new places.
func TestFileStoreRestartKeepsPlaces(t *testing.T) {
	dir := t.TempDir()
	fs, err := NewFileStore(filepath.Join(dir, "state"))
	if err != nil {
		t.Fatal(err)
	}
	s := Settings{Capacity: 5, Rate: 20, PrequeueAt: t0, OpensAt: t0.Add(time.Minute)}
	f := newFixture(t, s, fs)
	tickets := f.joinN(12)
	f.clk.Set(t0.Add(time.Minute))
	f.tick()
	tickets = append(tickets, f.joinN(300)...) // crosses a reservation block
	f.advance(time.Second)
	// Some admitted people claim their pass; the rest of the admitted do not.
	var passes []string
	for _, tk := range tickets {
		if f.r.position(tk) <= f.r.Counters().Serving && len(passes) < 3 {
			passes = append(passes, f.status(tk).Pass)
		}
	}
	if len(passes) != 3 {
		t.Fatalf("%d passes claimed, want 3", len(passes))
	}
	f.tick() // saves
	before := placesOf(t, f.r, tickets)
	cBefore := f.r.Counters()

	r2 := restart(t, s, testKeyring(t, "k1", 1), f.clk, fs)
	after := placesOf(t, r2, tickets)
	for i := range before {
		if before[i] != after[i] {
			t.Errorf("ticket %d: %+v before the restart, %+v after", i, before[i], after[i])
		}
	}
	c := r2.Counters()
	if c.Serving != cBefore.Serving || c.Active != cBefore.Active || c.Prequeued != 12 || c.Active > s.Capacity {
		t.Errorf("after restart: %+v\nbefore: %+v", c, cBefore)
	}
	for i, p := range passes {
		if _, err := r2.VerifyPass(p); err != nil {
			t.Errorf("pass %d after restart: %v", i, err)
		}
	}
	// New tickets never get an old place.
	old := map[uint64]bool{}
	for _, tk := range tickets {
		old[r2.position(tk)] = true
	}
	for i, tk := range joinTickets(t, r2, 300) {
		if p := r2.position(tk); old[p] {
			t.Fatalf("new ticket %d after restart got the old place %d", i, p)
		} else {
			old[p] = true
		}
	}
	clk2 := clock.NewManual(f.clk.Now())
	clk2.Advance(time.Second)
	r3 := restart(t, s, testKeyring(t, "k1", 1), clk2, fs)
	if err := r3.Tick(); err != nil {
		t.Fatal(err)
	}
	if a := r3.Counters().Active; a > s.Capacity {
		t.Errorf("active %d > capacity after restart and tick", a)
	}
	matches, _ := filepath.Glob(filepath.Join(dir, "state", ".room-*"))
	if len(matches) != 0 {
		t.Errorf("temporary files left behind: %v", matches)
	}
}

// TestCrashNeverReissuesPlaces: tickets handed out after the last save are
// lost to the state but never given to anyone else after a crash.
func TestCrashNeverReissuesPlaces(t *testing.T) {
	for _, phase := range []string{"open", "prequeue"} {
		t.Run(phase, func(t *testing.T) {
			store := newMemStore()
			s := Settings{Capacity: 50, Rate: 100, ClaimTimeout: time.Hour}
			if phase == "prequeue" {
				s.PrequeueAt, s.OpensAt = t0, t0.Add(time.Hour)
			}
			f := newFixture(t, s, store)
			tickets := f.joinN(100)
			f.tick()                                   // saved
			tickets = append(tickets, f.joinN(500)...) // handed out, never saved by a Tick
			// Crash: a new process from what is on "disk".
			clk := clock.NewManual(f.clk.Now())
			r2 := restart(t, s, testKeyring(t, "k1", 1), clk, store)
			if phase == "prequeue" {
				clk.Set(t0.Add(time.Hour))
			}
			more := joinTickets(t, r2, 500)
			if err := r2.Tick(); err != nil {
				t.Fatal(err)
			}
			requireOnePlaceEach(t, r2, append(tickets, more...))
			// Places reserved but maybe never issued are passed over.
			clk.Advance(time.Second)
			r2.Tick()
			sessionsOnlyForCertainPlaces(t, r2)
			t.Logf("%d sessions, %d places passed over", r2.Counters().Active, lineOf(r2).view().Skipped)
		})
	}
}

// TestSaveNeverGoesBack: a Tick whose (slow) save started before a block
// reservation must not overwrite the reservation with its older snapshot.
func TestSaveNeverGoesBack(t *testing.T) {
	store := newMemStore()
	f := newFixture(t, Settings{Capacity: 10, Rate: 100}, store)
	f.join() // reserves the first block
	f.advance(time.Second)
	f.join() // a change for the next Tick to save
	f.clk.Advance(time.Second)
	// A Tick takes its snapshot under the line's lock and writes it after
	// unlocking (as MemShared.Tick does): here it is held back until the
	// joins below have crossed into the next block, whose reservation is
	// written at once.
	l := lineOf(f.r)
	l.mu.Lock()
	l.tick(f.clk.Now(), f.r.admitParams(f.r.settings.Load()))
	snap, upTo := l.snapshot(f.clk.Now())
	l.mu.Unlock()
	for i := 0; i < reserveBlock; i++ {
		f.join()
	}
	if err := l.saved.write(snap, upTo); err != nil {
		t.Fatal(err)
	}
	issued := f.r.postSeq.Load()
	if snap := store.snapshot(t, "vaccine"); snap.ResvPost < issued {
		t.Fatalf("state on disk reserves up to %d but %d tickets were handed out: a crash would reissue places", snap.ResvPost, issued)
	}
	f.tick()
	if snap := store.snapshot(t, "vaccine"); snap.PostSeq != issued {
		t.Errorf("after the next tick: post_seq %d on disk, want %d", snap.PostSeq, issued)
	}
}

// TestFreezeWithStore: with a store, the pre-queue lottery is over exactly
// the people who joined (no phantom places from unused reservations), and a
// crash right after opening keeps everyone's drawn place.
func TestFreezeWithStore(t *testing.T) {
	for _, failFreezeSave := range []bool{false, true} {
		t.Run(fmt.Sprintf("freeze save fails=%v", failFreezeSave), func(t *testing.T) {
			store := newMemStore()
			s := Settings{Capacity: 10, Rate: 10, PrequeueAt: t0, OpensAt: t0.Add(time.Minute)}
			f := newFixture(t, s, store)
			tickets := f.joinN(4)
			f.clk.Set(t0.Add(time.Minute))
			if failFreezeSave {
				store.setFail(errors.New("disk full"))
			}
			// The first status after opening draws the lottery and reveals
			// places; no Tick (and so no regular save) happens before the crash.
			first := placesOf(t, f.r, tickets)
			store.setFail(nil)
			if !failFreezeSave {
				for i, p := range first {
					if p.State != StateWaiting || p.Position < 1 || p.Position > 4 {
						t.Errorf("ticket %d: %+v, want a place in 1..4", i, p)
					}
				}
			}
			r2 := restart(t, s, testKeyring(t, "k1", 1), f.clk, store)
			if again := placesOf(t, r2, tickets); fmt.Sprint(again) != fmt.Sprint(first) {
				t.Errorf("after a crash right after opening:\n%v\nbefore:\n%v", again, first)
			}
			if failFreezeSave {
				// Fallback: the reserved numbers count, but are uncertain.
				if n := f.r.n.Load(); n != reserveBlock {
					t.Errorf("n = %d, want the reservation %d", n, reserveBlock)
				}
				if p := f.r.position(Ticket{Phase: PhasePrequeue, Seq: 100}); !isUncertain(lineOf(f.r), p) {
					t.Errorf("the place %d of an unissued pre-queue number is not uncertain", p)
				}
			}
		})
	}
}

// TestRestartAfterKeyRotation: rotating the signing key (new current key,
// old key kept for verification) and restarting keeps the drawn places.
func TestRestartAfterKeyRotation(t *testing.T) {
	store := newMemStore()
	oldKey := Key{ID: "old", Secret: testSecret(100)}
	newKey := Key{ID: "new", Secret: testSecret(101)}
	oldRing, _ := NewKeyring(oldKey)
	clk := clock.NewManual(t0)
	s := Settings{Name: "vaccine", Capacity: 10, Rate: 10, PrequeueAt: t0, OpensAt: t0.Add(time.Minute)}
	r, err := New(s, oldRing, clk, store)
	if err != nil {
		t.Fatal(err)
	}
	tickets := joinTickets(t, r, 50)
	clk.Set(t0.Add(time.Minute))
	if err := r.Tick(); err != nil {
		t.Fatal(err)
	}
	before := placesOf(t, r, tickets)

	rotated, _ := NewKeyring(newKey, oldKey)
	r2 := restart(t, s, rotated, clk, store)
	if after := placesOf(t, r2, tickets); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Errorf("places changed after a key rotation:\n%v\nbefore:\n%v", after, before)
	}
	if err := r2.Tick(); err != nil { // the state now names the old key
		t.Fatal(err)
	}
	before = placesOf(t, r2, tickets) // the Tick admitted some
	if snap := store.snapshot(t, "vaccine"); snap.LotteryKey != "old" {
		t.Errorf("lottery key in state %q, want old", snap.LotteryKey)
	}
	// Dropping the key the lottery was drawn with is refused clearly.
	newOnly, _ := NewKeyring(newKey)
	if _, err := New(s, newOnly, clk, store); err == nil || !strings.Contains(err.Error(), `"old"`) {
		t.Errorf("restart without the lottery key: %v, want an error naming it", err)
	}
	// Snapshots from before the key was recorded use the current key.
	snap := store.snapshot(t, "vaccine")
	snap.LotteryKey = ""
	store.Save("vaccine", snap)
	r3 := restart(t, s, oldRing, clk, store)
	if after := placesOf(t, r3, tickets); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Errorf("old snapshot: places changed")
	}
}

func TestRestartRestoresSettingsAndSessions(t *testing.T) {
	store := newMemStore()
	s := Settings{Capacity: 4, Rate: 100}
	f := newFixture(t, s, store)
	tickets := f.joinN(10)
	f.advance(time.Second)
	claimed := f.status(tickets[0]) // claimed; tickets 1-3 admitted, unclaimed
	resume := t0.Add(time.Hour)
	if _, err := f.r.Update(func(s *Settings) {
		s.Capacity, s.Paused, s.Rate, s.Message, s.ResumeAt = 6, true, 7, "점검 중", resume
	}); err != nil {
		t.Fatal(err)
	}
	f.tick()
	r2 := restart(t, s, testKeyring(t, "k1", 1), f.clk, store)
	got := r2.Settings()
	if got.Capacity != 6 || !got.Paused || got.Rate != 7 || got.Message != "점검 중" || !got.ResumeAt.Equal(resume) {
		t.Errorf("settings after restart: %+v", got)
	}
	if _, err := r2.VerifyPass(claimed.Pass); err != nil {
		t.Errorf("claimed pass after restart: %v", err)
	}
	for i := 1; i < 4; i++ {
		if st, err := r2.Status(tickets[i]); err != nil || st.State != StateAdmitted {
			t.Errorf("admitted ticket %d after restart: %+v %v", i, st, err)
		}
	}
	if c := r2.Counters(); c.Active != 4 || c.Serving != 4 || c.State != StatePaused {
		t.Errorf("counters after restart: %+v", c)
	}
}

func TestCorruptState(t *testing.T) {
	tests := []struct {
		name    string
		content []byte
		dir     bool
		want    string
	}{
		{"garbage", []byte("this is not json"), false, "corrupt"},
		{"empty", nil, false, "corrupt"},
		{"truncated", []byte(`{"version":1,"frozen":tr`), false, "corrupt"},
		{"wrong type", []byte(`{"version":1,"n":"many"}`), false, "corrupt"},
		{"negative", []byte(`{"version":1,"n":-1}`), false, "corrupt"},
		{"binary", []byte{0, 1, 2, 0xff, 0xfe}, false, "corrupt"},
		{"null", []byte("null"), false, "version"},
		{"no version", []byte("{}"), false, "version"},
		{"future version", []byte(`{"version":2}`), false, "version 2"},
		{"a directory", nil, true, "reading room state"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			fs, err := NewFileStore(dir)
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(dir, "room-vaccine.json")
			if tc.dir {
				err = os.Mkdir(path, 0o700)
			} else {
				err = os.WriteFile(path, tc.content, 0o600)
			}
			if err != nil {
				t.Fatal(err)
			}
			r, err := New(Settings{Name: "vaccine"}, testKeyring(t, "k1", 1), clock.NewManual(t0), fs)
			if err == nil || r != nil {
				t.Fatalf("New from a corrupt state: %v, %v", r, err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not say %q", err, tc.want)
			}
			if !tc.dir && !strings.Contains(err.Error(), path) {
				t.Errorf("error %q does not name the file", err)
			}
			// Other rooms in the same directory are unaffected.
			if _, err := New(Settings{Name: "other"}, testKeyring(t, "k1", 1), clock.NewManual(t0), fs); err != nil {
				t.Errorf("another room: %v", err)
			}
		})
	}
}

func TestFileStore(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a", "b")
	fs, err := NewFileStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	if s, err := fs.Load("vaccine"); s != nil || err != nil {
		t.Fatalf("Load of a missing room: %v %v", s, err)
	}
	want := &Snapshot{Version: 1, SavedAt: t0.UTC(), Frozen: true, N: 7, PreSeq: 7, ResvPre: 7, PostSeq: 3, ResvPost: 256,
		Serving: 5, Slots: []SlotState{{Position: 5, Expires: t0.Add(time.Minute).UTC(), Claimed: true}},
		Uncertain: []SeqRange{{PhaseOpen, 3, 256}}, Controls: Controls{Capacity: 2, Rate: 1.5}, LotteryKey: "k1"}
	for i := 0; i < 3; i++ { // replaces
		if err := fs.Save("vaccine", want); err != nil {
			t.Fatal(err)
		}
	}
	got, err := fs.Load("vaccine")
	if err != nil {
		t.Fatal(err)
	}
	a, _ := json.Marshal(got)
	b, _ := json.Marshal(want)
	if !bytes.Equal(a, b) {
		t.Errorf("round trip:\n%s\nwant\n%s", a, b)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("directory holds %d entries, want 1", len(entries))
	}
	if _, err := NewFileStore(filepath.Join(dir, "room-vaccine.json", "x")); err == nil {
		t.Error("NewFileStore under a file succeeded")
	}
}

// TestStoreFailures: when the state cannot be recorded the room refuses to
// hand out places it could not remember (fail closed) and recovers after.
func TestStoreFailures(t *testing.T) {
	store := newMemStore()
	f := newFixture(t, Settings{Capacity: 10, Rate: 100}, store)
	f.tick()
	store.setFail(errors.New("disk full"))
	tok, _, err := f.r.Join()
	if !errors.Is(err, ErrPersist) || tok != "" {
		t.Fatalf("join with a failing store: %q %v, want ErrPersist and no ticket", tok, err)
	}
	f.r.Update(func(s *Settings) { s.Rate = 50 }) // something to save
	if err := f.r.Tick(); err == nil {
		t.Error("Tick hid a failed save")
	}
	var logs bytes.Buffer
	m := NewManager(f.keys, f.clk, store, slog.New(slog.NewTextHandler(&logs, nil)))
	m.rooms.Store(&map[string]*Room{"vaccine": f.r})
	m.TickAll()
	if !strings.Contains(logs.String(), "disk full") {
		t.Errorf("TickAll did not log the failure: %q", logs.String())
	}
	store.setFail(nil)
	f.tick()
	_, tk, _ := f.join()
	if tk.Seq != 0 {
		t.Errorf("first ticket after recovery has seq %d, want 0 (nothing was handed out)", tk.Seq)
	}
	if snap := store.snapshot(t, "vaccine"); snap.ResvPost <= tk.Seq {
		t.Errorf("reservation %d does not cover the issued ticket %d", snap.ResvPost, tk.Seq)
	}
}

func TestSnapshotIsSmall(t *testing.T) {
	store := newMemStore()
	f := newFixture(t, Settings{Capacity: 10, Rate: 100}, store)
	addWaiting(f.r, 6_000_000)
	f.advance(time.Second)
	b := store.data["vaccine"]
	if len(b) > 4096 {
		t.Errorf("snapshot of a line of 6 million is %d bytes", len(b))
	}
}

func TestManager(t *testing.T) {
	dir := t.TempDir()
	fs, _ := NewFileStore(dir)
	keys := testKeyring(t, "k1", 1)
	clk := clock.NewManual(t0)
	m := NewManager(keys, clk, fs, nil)
	if m.Keys() != keys || m.Clock() != clk {
		t.Error("Keys/Clock")
	}
	for _, name := range []string{"b", "a", "c"} {
		if _, err := m.Add(Settings{Name: name, Capacity: 1, Rate: 100}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := m.Add(Settings{Name: "a"}); err == nil {
		t.Error("duplicate room accepted")
	}
	if _, err := m.Add(Settings{Name: "Bad Name"}); err == nil {
		t.Error("bad room name accepted")
	}
	var names []string
	for _, r := range m.Rooms() {
		names = append(names, r.Name())
	}
	if strings.Join(names, ",") != "a,b,c" {
		t.Errorf("Rooms() = %v", names)
	}
	a, ok := m.Get("a")
	if !ok {
		t.Fatal("Get(a)")
	}
	if _, ok := m.Get("zzz"); ok {
		t.Error("Get of a missing room")
	}
	tok, _, err := a.Join()
	if err != nil {
		t.Fatal(err)
	}
	clk.Advance(time.Second)
	m.TickAll()
	// Another process with the same keys and state directory.
	m2 := NewManager(testKeyring(t, "k1", 1), clk, fs, nil)
	a2, err := m2.Add(Settings{Name: "a", Capacity: 1, Rate: 100})
	if err != nil {
		t.Fatal(err)
	}
	tk, err := a2.VerifyTicket(tok)
	if err != nil {
		t.Fatal(err)
	}
	if st, err := a2.Status(tk); err != nil || st.State != StateAdmitted {
		t.Errorf("ticket in the second manager: %+v %v", st, err)
	}
	// Run ticks until cancelled and saves once more at the end: with its
	// context cancelled already, it returns after that last tick.
	if _, _, err := a.Join(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	m.Run(ctx, time.Hour)
	if snap, err := fs.Load("a"); err != nil || snap == nil || snap.PostSeq != 2 {
		t.Errorf("state saved by Run's last tick: %+v %v, want post_seq 2", snap, err)
	}
}

// TestRestartConfigEditWins: an operator's live change survives a restart
// while the configuration still says what it said before; a control whose
// configured value was edited in the meantime takes the new value.
func TestRestartConfigEditWins(t *testing.T) {
	store := newMemStore()
	s := Settings{Capacity: 4, Rate: 100}
	f := newFixture(t, s, store)
	f.join()
	if _, err := f.r.Update(func(s *Settings) { s.Capacity = 6; s.Paused = true; s.Rate = 7 }); err != nil {
		t.Fatal(err)
	}
	f.tick()

	// Capacity edited in the config (4 -> 9); rate and pause not.
	edited := s
	edited.Capacity = 9
	r2 := restart(t, edited, testKeyring(t, "k1", 1), f.clk, store)
	if got := r2.Settings(); got.Capacity != 9 || got.Rate != 7 || !got.Paused {
		t.Fatalf("after a config edit: capacity %d rate %v paused %v, want 9 7 true", got.Capacity, got.Rate, got.Paused)
	}
	// The operator now resumes and raises the capacity; the config still
	// says 9. The next restart keeps the operator's values.
	if _, err := r2.Update(func(s *Settings) { s.Capacity = 12; s.Paused = false }); err != nil {
		t.Fatal(err)
	}
	if err := r2.Tick(); err != nil {
		t.Fatal(err)
	}
	r3 := restart(t, edited, testKeyring(t, "k1", 1), f.clk, store)
	if got := r3.Settings(); got.Capacity != 12 || got.Rate != 7 || got.Paused {
		t.Fatalf("after an operator change: capacity %d rate %v paused %v, want 12 7 false", got.Capacity, got.Rate, got.Paused)
	}
	if c := store.snapshot(t, "vaccine").Configured; c == nil || c.Capacity != 9 || c.Rate != 100 || c.Paused {
		t.Errorf("snapshot's configured controls: %+v, want capacity 9 rate 100 not paused", c)
	}

	// A snapshot from before the configuration was recorded: it wins.
	old := store.snapshot(t, "vaccine")
	old.Configured = nil
	if err := store.Save("vaccine", old); err != nil {
		t.Fatal(err)
	}
	r4 := restart(t, Settings{Capacity: 30, Rate: 100}, testKeyring(t, "k1", 1), f.clk, store)
	if got := r4.Settings(); got.Capacity != 12 {
		t.Errorf("old snapshot: capacity %d, want the saved 12", got.Capacity)
	}
}

// TestAcknowledgedChangesSurviveACrash: a leave, a claim and an operator's
// change are saved before the room answers them, so a crash right after
// the answer (no Tick in between) neither brings a returned pass back nor
// forgets a pass handed out or a pause.
func TestAcknowledgedChangesSurviveACrash(t *testing.T) {
	store := newMemStore()
	s := Settings{Capacity: 2, Rate: 1000, ClaimTimeout: time.Hour, PassTTL: time.Hour}
	f := newFixture(t, s, store)
	tickets := f.joinN(3) // the first two go in at once with their passes
	returned := f.status(tickets[0])
	f.tick() // saved by the tick either way
	if err := f.r.Leave(f.pass(returned)); err != nil {
		t.Fatal(err)
	}
	kept := f.status(tickets[2]) // admitted by the leave, claimed now
	if kept.Pass == "" {
		t.Fatalf("third ticket after the leave: %+v, want a pass", kept)
	}
	if _, err := f.r.Update(func(s *Settings) { s.Paused = true }); err != nil {
		t.Fatal(err)
	}
	// kill -9: the next process starts from what is on disk.
	r2 := restart(t, s, f.keys, f.clk, store)
	if _, err := r2.VerifyPass(returned.Pass); !errors.Is(err, ErrRevoked) {
		t.Errorf("a pass returned before the crash: %v, want ErrRevoked", err)
	}
	if _, err := r2.VerifyPass(kept.Pass); err != nil {
		t.Errorf("a pass handed out before the crash: %v, want it to open the gate", err)
	}
	if st, err := r2.Status(tickets[0]); !errors.Is(err, ErrTurnOver) {
		t.Errorf("the returned ticket after the crash: %+v %v, want ErrTurnOver (its place holds no slot)", st, err)
	}
	if !r2.Settings().Paused {
		t.Error("a pause acknowledged before the crash was lost")
	}
}

// blockingStore is a memStore whose Save waits while gate is not nil
// (released by closing it), so that a test can hold one write on its way.
type blockingStore struct {
	*memStore
	mu      sync.Mutex
	gate    chan struct{}
	waiting chan struct{} // gets a value when a Save starts waiting
}

func (b *blockingStore) Save(room string, s *Snapshot) error {
	b.mu.Lock()
	gate := b.gate
	b.mu.Unlock()
	if gate != nil {
		b.waiting <- struct{}{}
		<-gate
	}
	return b.memStore.Save(room, s)
}

// TestLeavesShareWrites: leaves that arrive while a write is on its way
// wait for one more write that covers them all (a group commit), and none
// of them answers before its change is on disk.
func TestLeavesShareWrites(t *testing.T) {
	store := &blockingStore{memStore: newMemStore(), waiting: make(chan struct{}, 1)}
	s := Settings{Capacity: 40, Rate: 1000, ClaimTimeout: time.Hour, PassTTL: time.Hour}
	f := newFixture(t, s, store)
	f.tick()
	var passes []Pass
	for _, tk := range f.joinN(40) {
		passes = append(passes, f.pass(f.status(tk)))
	}
	f.tick()
	store.mu.Lock()
	store.gate = make(chan struct{})
	store.mu.Unlock()
	before := store.saves
	var wg sync.WaitGroup
	leave := func(p Pass) {
		defer wg.Done()
		if err := f.r.Leave(p); err != nil {
			t.Error(err)
		}
	}
	wg.Add(1)
	go leave(passes[0])
	select { // the first leave's write is held
	case <-store.waiting:
	case <-time.After(10 * time.Second):
		t.Fatal("the first leave wrote nothing")
	}
	l := lineOf(f.r)
	changes := func() uint64 {
		l.mu.Lock()
		defer l.mu.Unlock()
		return l.saved.changes
	}
	start := changes()
	wg.Add(len(passes) - 1)
	for _, p := range passes[1:] {
		go leave(p)
	}
	deadline := time.Now().Add(10 * time.Second)
	for changes() < start+uint64(len(passes)-1) { // every other leave made its change and waits
		if time.Now().After(deadline) {
			t.Fatal("the leaves did not all reach the line")
		}
		time.Sleep(time.Millisecond)
	}
	store.mu.Lock()
	close(store.gate)
	store.gate = nil
	store.mu.Unlock()
	wg.Wait()
	if n := store.saves - before; n != 2 {
		t.Errorf("%d leaves took %d writes, want 2 (the held one and one for all the others)", len(passes), n)
	}
	if snap := store.snapshot(t, "vaccine"); len(snap.Slots) != 0 || snap.Leaves != uint64(len(passes)) {
		t.Errorf("on disk after the leaves: %d sessions, %d leaves; want 0 and %d", len(snap.Slots), snap.Leaves, len(passes))
	}
}

// TestLeaveUnsaved: when the state cannot be saved, a leave is not
// acknowledged (ErrPersist: 503, the place is freed when the pass expires).
func TestLeaveUnsaved(t *testing.T) {
	store := newMemStore()
	f := newFixture(t, Settings{Capacity: 3, Rate: 1000}, store)
	_, _, st := f.join()
	p := f.pass(st)
	store.setFail(errors.New("disk full"))
	if err := f.r.Leave(p); !errors.Is(err, ErrPersist) || !errors.Is(err, ErrUnsaved) {
		t.Errorf("leave with a failing disk: %v, want ErrPersist wrapping ErrUnsaved", err)
	}
	store.setFail(nil)
	if err := f.r.Leave(p); err != nil {
		t.Errorf("leaving again once the disk works: %v", err)
	}
}

// TestRestartKeepsPacing: the pacing is one of the line's controls: an
// operator's switch to auto survives a restart while the configuration
// still says fixed; an edited pacing in the configuration wins.
func TestRestartKeepsPacing(t *testing.T) {
	store := newMemStore()
	s := Settings{Capacity: 4, Rate: 100}
	f := newFixture(t, s, store)
	auto := Pacing{Mode: PacingAuto, TargetP95: 300 * time.Millisecond, MaxErrorRate: 0.02, MinRate: 2, MaxRate: 50}
	if _, err := f.r.Update(func(s *Settings) { s.Pacing = auto }); err != nil {
		t.Fatal(err)
	}
	f.tick()
	if snap := store.snapshot(t, "vaccine"); snap.Pacing != auto {
		t.Fatalf("snapshot's pacing %+v, want %+v", snap.Pacing, auto)
	}
	r2 := restart(t, s, testKeyring(t, "k1", 1), f.clk, store)
	if got := r2.Settings().Pacing; got != auto {
		t.Fatalf("after a restart: pacing %+v, want the operator's %+v", got, auto)
	}
	edited := s
	edited.Pacing = Pacing{Mode: PacingAuto, TargetP95: time.Second, MaxErrorRate: 0.05, MinRate: 1, MaxRate: 10}
	r3 := restart(t, edited, testKeyring(t, "k1", 1), f.clk, store)
	if got := r3.Settings().Pacing; got != edited.Pacing {
		t.Errorf("after a config edit: pacing %+v, want the config's %+v", got, edited.Pacing)
	}
}
