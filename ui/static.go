// Embedded static files and the headers every page has.

package ui

import (
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"net/http"
	"path"
	"strings"
)

// asset is an embedded file of static/, with a content hash as its version:
// the ETag, and the ?v= of a versioned address (AssetURL).
type asset struct {
	body    []byte
	ctype   string
	version string
}

var assetTypes = map[string]string{
	".css": "text/css; charset=utf-8",
	".js":  "text/javascript; charset=utf-8",
}

// loadAssets reads the named files of fsys's static/ folder; a missing file
// or an unknown kind of file is a programming error.
func loadAssets(fsys fs.FS, names ...string) map[string]asset {
	out := map[string]asset{}
	for _, name := range names {
		ctype, ok := assetTypes[path.Ext(name)]
		if !ok {
			panic("ui: no content type for " + name)
		}
		b, err := fs.ReadFile(fsys, "static/"+name)
		if err != nil {
			panic(err)
		}
		sum := sha256.Sum256(b)
		out[name] = asset{body: b, ctype: ctype, version: hex.EncodeToString(sum[:6])}
	}
	return out
}

// serveAsset answers a static file. At its versioned address (?v= of the
// current version) it may be cached for a year; elsewhere cacheControl says
// how long.
func serveAsset(w http.ResponseWriter, r *http.Request, a asset, cacheControl string) {
	h := w.Header()
	etag := `"` + a.version + `"`
	h.Set("Content-Type", a.ctype)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("ETag", etag)
	if r.URL.Query().Get("v") == a.version {
		cacheControl = "public, max-age=31536000, immutable"
	}
	h.Set("Cache-Control", cacheControl)
	if strings.Contains(r.Header.Get("If-None-Match"), etag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	w.Write(a.body)
}

// pagePolicy lets a page use only this server's own styles, scripts, images
// and forms, and nobody frame it.
const pagePolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// setPageHeaders sets the headers of every HTML page: never cached (pages
// show personal data or operator figures), the content security policy,
// and referrer as the Referrer-Policy.
func setPageHeaders(h http.Header, referrer string) {
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Security-Policy", pagePolicy)
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", referrer)
}
