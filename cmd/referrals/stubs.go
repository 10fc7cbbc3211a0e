package main

import "context"

func cmdRun(ctx context.Context, e env, args []string) error {
	return &usageError{"run: not built yet"}
}
func cmdExplain(ctx context.Context, e env, args []string) error {
	return &usageError{"explain: not built yet"}
}
func cmdCheck(ctx context.Context, e env, args []string) error {
	return &usageError{"check: not built yet"}
}
func cmdSample(ctx context.Context, e env, args []string) error {
	return &usageError{"sample: not built yet"}
}
func cmdBench(ctx context.Context, e env, args []string) error {
	return &usageError{"bench: not built yet"}
}
