namespace Floodgate.Grains.WarmUp;

/// <summary>How much work one warm-up may do.</summary>
/// <param name="ItemsPerRound">Items per round; rounded up to whole chunks (<c>Batches:ChunkSize</c>), since only the last chunk of a batch may be short.</param>
/// <param name="MaxRounds">Most rounds; the warm-up usually stops earlier, once a round leaves the JIT nothing new to compile.</param>
/// <param name="Concurrency">The batch's local limit and its limiter's limit: items in flight at once.</param>
public sealed record WarmUpPlan(int ItemsPerRound, int MaxRounds, int Concurrency);

/// <summary>What one warm-up did.</summary>
/// <param name="Name">The run's name (<see cref="WarmUpNames"/>): its batch id, limiter and breaker.</param>
/// <param name="Rounds">Rounds run.</param>
/// <param name="Items">Items processed.</param>
/// <param name="CompiledMethods">Methods the JIT compiled from the start of the warm-up to its end.</param>
/// <param name="Settled">True when the last round compiled (almost) nothing new: the item path runs on optimized code.</param>
/// <param name="Erased">True when every record of the warm-up was removed (batch, chunks, reminders, limiter record).</param>
public sealed record WarmUpResult(string Name, int Rounds, int Items, long CompiledMethods, bool Settled, bool Erased);

/// <summary>One finished round, for whoever wants to read it back another way (the silo's own HTTP API, say).</summary>
/// <param name="Name">The run's batch id (and limiter, and breaker).</param>
/// <param name="FirstPosition">Position of the round's first item.</param>
/// <param name="Items">Items of the round; each has its outcome, readable in order from <paramref name="FirstPosition"/>.</param>
public sealed record WarmUpRound(string Name, int FirstPosition, int Items);
