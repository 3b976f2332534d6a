package app

import (
	"html/template"
	"net/http"
	"strconv"
	"time"

	"github.com/sluicehq/sluice/room"
)

// DemoRoom is the plain waiting-room demo: open at once, five people inside
// at a time, a gated page behind it.
var DemoRoom = room.Settings{
	Name:         "demo",
	Capacity:     5,
	Rate:         2,
	PassTTL:      2 * time.Minute,
	ClaimTimeout: 30 * time.Second,
	WaitingURL:   "/wait/demo",
}

var demoIndex = template.Must(template.New("index").Parse(`<!doctype html>
<html lang="ko"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sluice demo</title>
<style>body{font-family:system-ui,sans-serif;max-width:36rem;margin:2rem auto;padding:0 1rem;line-height:1.5}
a{color:#0b57d0}:focus-visible{outline:3px solid #f4b400}</style></head>
<body><main><h1>Sluice 데모 · demo</h1>
<p>대기실 <code>demo</code>: 동시에 {{.Capacity}}명까지 입장, 초당 최대 {{.Rate}}명 입장.<br>
<span lang="en">Room <code>demo</code>: up to {{.Capacity}} people inside at once, at most {{.Rate}} admitted per second.</span></p>
<ul>
<li><a href="/demo/protected">보호된 페이지 열기 · Open the protected page</a> (대기실을 거쳐 입장 · goes through the waiting room)</li>
<li><a href="/wait/demo?return=/demo/protected">대기실 · Waiting room</a></li>
<li><a href="/healthz">/healthz</a> · <a href="/metrics">/metrics</a></li>
</ul>
<p>API: <code>curl -X POST {{.Base}}/api/v1/rooms/demo/tickets</code></p>
</main></body></html>`))

var demoProtected = template.Must(template.New("protected").Parse(`<!doctype html>
<html lang="ko"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>입장 완료 · You're in</title>
<style>body{font-family:system-ui,sans-serif;max-width:36rem;margin:2rem auto;padding:0 1rem}
button{font-size:1rem;padding:.6rem 1rem}:focus-visible{outline:3px solid #f4b400}</style></head>
<body><main><h1>보호된 페이지 · Protected page</h1>
<p>유효한 입장권으로 들어왔습니다 (대기 순서 {{.Position}}번, {{.Expires}}까지).<br>
<span lang="en">You got in with a valid pass (place {{.Position}}, valid until {{.Expires}}).</span></p>
<form method="post" action="/wait/demo/leave"><button type="submit">나가기 · Leave (frees your place for the next person)</button></form>
</main></body></html>`))

func (a *App) setupDemo() error {
	if _, ok := a.Rooms.Get(DemoRoom.Name); !ok {
		if _, err := a.Rooms.Add(DemoRoom); err != nil {
			return err
		}
	}
	gate := a.Server.Gate(DemoRoom.Name)
	protected := gate.Guard(func(w http.ResponseWriter, r *http.Request, p room.Pass) {
		w.Header().Set("Cache-Control", "no-store")
		if !room.WantsHTML(r) {
			w.Header().Set("Content-Type", "application/json")
			w.Write([]byte(`{"ok":true,"room":"demo","position":` + strconv.FormatUint(p.Position, 10) + `,"pass_expires_at":"` + p.Expires.Format(time.RFC3339) + `"}`))
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		demoProtected.Execute(w, map[string]any{"Position": p.Position, "Expires": p.Expires.In(time.Local).Format("15:04:05")})
	}, nil)
	a.Server.Routes = func(mux *http.ServeMux) {
		mux.Handle("GET /demo/protected", protected)
		mux.HandleFunc("GET /demo", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			rm, _ := a.Rooms.Get(DemoRoom.Name)
			st := rm.Settings()
			demoIndex.Execute(w, map[string]any{"Capacity": st.Capacity, "Rate": st.Rate, "Base": "http://" + r.Host})
		})
	}
	return nil
}
