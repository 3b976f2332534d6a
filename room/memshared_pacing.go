package room

import (
	"context"
)

// SetControlsIf changes the controls as SetControls does if they were last
// set by change number set (View.ControlsSet); otherwise it changes
// nothing and ok is false (the pacer, pacer.go).
func (m *MemShared) SetControlsIf(_ context.Context, name string, c Controls, set uint64) (View, bool, error) {
	l, err := m.line(name)
	if err != nil {
		return View{}, false, err
	}
	l.mu.Lock()
	if l.v.ControlsSet != set {
		v := l.view()
		l.mu.Unlock()
		return v, false, nil
	}
	l.setControls(c)
	v := l.view()
	upTo, at := l.changesMade(), l.lastTick
	l.mu.Unlock()
	return v, true, unsaved(l.durable(upTo, at))
}
