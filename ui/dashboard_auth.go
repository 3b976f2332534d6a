// Operator dashboard: sign-in, sessions, sign-out.

package ui

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/sluicehq/sluice/web"
)

// sessionValue is "<expiry unix>.<HMAC of it keyed by the admin token>": it
// proves knowledge of the token without holding it, expires by itself and
// stops working when the token changes.
func (d *Dashboard) sessionValue(exp time.Time) string {
	e := strconv.FormatInt(exp.Unix(), 10)
	return e + "." + d.sessionMAC(e)
}

func (d *Dashboard) sessionMAC(exp string) string {
	key := sha256.Sum256([]byte("sluice admin session\x00" + d.Server.AdminToken))
	m := hmac.New(sha256.New, key[:])
	m.Write([]byte("admin-session-v1\x00" + exp))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

func (d *Dashboard) validSession(v string) bool {
	if d.Server.AdminToken == "" {
		return false
	}
	e, mac, ok := strings.Cut(v, ".")
	if !ok {
		return false
	}
	exp, err := strconv.ParseInt(e, 10, 64)
	// Session expiry runs on real time, not on the (settable) demo clock.
	if err != nil || time.Now().Unix() >= exp || exp > time.Now().Add(dashSessionTTL+time.Minute).Unix() {
		return false
	}
	return hmac.Equal([]byte(mac), []byte(d.sessionMAC(e)))
}

func (d *Dashboard) authed(r *http.Request) bool {
	if c, err := r.Cookie(dashCookie); err == nil && d.validSession(c.Value) {
		return true
	}
	return false
}

// page requires a session; without one, browsers go to the sign-in page.
func (d *Dashboard) page(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if !d.authed(r) {
			w.Header().Set("Cache-Control", "no-store")
			if r.Method == http.MethodGet {
				http.Redirect(w, r, d.Server.Path("/admin/login"), http.StatusSeeOther)
				return
			}
			d.message(w, r, http.StatusUnauthorized, "dash.signed_out")
			return
		}
		h(w, r)
	}
}

func (d *Dashboard) setSession(w http.ResponseWriter, r *http.Request, value string, maxAge int) {
	http.SetCookie(w, &http.Cookie{Name: dashCookie, Value: value, Path: d.Server.Path("/admin"), MaxAge: maxAge,
		HttpOnly: true, Secure: r.TLS != nil, SameSite: http.SameSiteStrictMode})
}

func (d *Dashboard) handleLoginPage(w http.ResponseWriter, r *http.Request) {
	d.setup()
	if d.authed(r) {
		http.Redirect(w, r, d.Server.Path("/admin"), http.StatusSeeOther)
		return
	}
	d.render(w, r, http.StatusOK, "dashboard_login.html", d.base(w, r, "dash.login_title"))
}

// handleLogin checks the token with the server's one admin check
// (web.Server.CheckAdminToken: throttled, constant time), the check of the
// admin API and of /admin/api/live.
func (d *Dashboard) handleLogin(w http.ResponseWriter, r *http.Request) {
	res, wait := d.Server.CheckAdminToken(r, r.PostFormValue("token"))
	if res == web.AdminOK {
		d.setSession(w, r, d.sessionValue(time.Now().Add(dashSessionTTL)), int(dashSessionTTL/time.Second))
		if d.Server.Log != nil {
			d.Server.Log.Info("dashboard: operator signed in", "remote", r.RemoteAddr)
		}
		http.Redirect(w, r, d.Server.Path("/admin"), http.StatusSeeOther)
		return
	}
	v := d.base(nil, r, "dash.login_title")
	status := http.StatusUnauthorized
	switch res {
	case web.AdminBlocked:
		web.SetRetryAfter(w, wait)
		v.Error, status = "dash.login_blocked", http.StatusTooManyRequests
		// The wait left, not the window's full length: told "10 minutes"
		// nine minutes in, an operator would wait nine for nothing.
		v.ErrorWait = v.Lang.Dur(wait)
	case web.AdminDisabled:
		v.Error = "dash.login_disabled"
	default:
		v.Error = "dash.login_wrong"
	}
	d.render(w, r, status, "dashboard_login.html", v)
}

func (d *Dashboard) handleLogout(w http.ResponseWriter, r *http.Request) {
	d.setSession(w, r, "", -1)
	http.Redirect(w, r, d.Server.Path("/admin/login"), http.StatusSeeOther)
}
