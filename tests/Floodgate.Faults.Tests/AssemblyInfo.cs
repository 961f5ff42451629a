// Each scenario runs its own processes and measures timing: one at a time, never next to each other.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
