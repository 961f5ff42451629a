namespace Floodgate.Tests.Infrastructure;

/// <summary>Thread-safe "remember the largest value seen", for tests that measure concurrency themselves.</summary>
public static class InterlockedMax
{
    public static void Raise(ref int target, int value)
    {
        int current;
        while (value > (current = Volatile.Read(ref target)) && Interlocked.CompareExchange(ref target, value, current) != current)
        {
        }
    }
}
