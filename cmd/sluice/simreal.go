package main

import (
	"errors"
	"io"

	"github.com/sluicehq/sluice/sim/rehearsal"
)

func runSimReal(stdout, stderr io.Writer, getenv func(string) string, sc *rehearsal.Scenario, res *rehearsal.Result, seed uint64) error {
	return errors.New("not built yet")
}
