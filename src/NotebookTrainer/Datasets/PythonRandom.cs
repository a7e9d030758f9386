namespace NotebookTrainer.Datasets;

/// <summary>
/// Python's <c>random</c> module for the calls sd-scripts makes when it needs a reproducible order: Mersenne Twister
/// MT19937 seeded as <c>random.seed(int)</c> does (init_by_array over the 32-bit words of |seed|) and
/// <c>random.shuffle</c> (Fisher–Yates from the end, indices by rejection sampling on getrandbits). The same seed
/// gives the same permutation as CPython, so a validation split matches sd-scripts' image for image.
/// </summary>
public sealed class PythonRandom
{
    const int N = 624;
    const int M = 397;
    readonly uint[] state = new uint[N];
    int index = N;

    public PythonRandom(long seed)
    {
        var magnitude = (ulong)Math.Abs(seed);
        var key = magnitude >> 32 == 0 ? new[] { (uint)magnitude } : [(uint)magnitude, (uint)(magnitude >> 32)];
        InitByArray(key);
    }

    void InitGenrand(uint seed)
    {
        state[0] = seed;
        for (var i = 1; i < N; i++)
            state[i] = unchecked(1812433253u * (state[i - 1] ^ (state[i - 1] >> 30)) + (uint)i);
        index = N;
    }

    void InitByArray(uint[] key)
    {
        InitGenrand(19650218u);
        int i = 1, j = 0;
        for (var k = Math.Max(N, key.Length); k > 0; k--)
        {
            state[i] = unchecked((state[i] ^ ((state[i - 1] ^ (state[i - 1] >> 30)) * 1664525u)) + key[j] + (uint)j);
            i++;
            j++;
            if (i >= N) { state[0] = state[N - 1]; i = 1; }
            if (j >= key.Length) j = 0;
        }
        for (var k = N - 1; k > 0; k--)
        {
            state[i] = unchecked((state[i] ^ ((state[i - 1] ^ (state[i - 1] >> 30)) * 1566083941u)) - (uint)i);
            i++;
            if (i >= N) { state[0] = state[N - 1]; i = 1; }
        }
        state[0] = 0x80000000u;
    }

    /// <summary>The next 32 random bits (genrand_uint32).</summary>
    public uint NextUInt32()
    {
        if (index >= N) Twist();
        var y = state[index++];
        y ^= y >> 11;
        y ^= (y << 7) & 0x9d2c5680u;
        y ^= (y << 15) & 0xefc60000u;
        return y ^ (y >> 18);
    }

    void Twist()
    {
        for (var i = 0; i < N; i++)
        {
            var y = (state[i] & 0x80000000u) | (state[(i + 1) % N] & 0x7fffffffu);
            state[i] = state[(i + M) % N] ^ (y >> 1) ^ ((y & 1) == 0 ? 0u : 0x9908b0dfu);
        }
        index = 0;
    }

    /// <summary><c>random._randbelow(n)</c> for 0 &lt; n &lt; 2³²: getrandbits(n.bit_length()) until it is below n.</summary>
    public int Below(int n)
    {
        if (n <= 0) throw new ArgumentOutOfRangeException(nameof(n), n, "must be positive.");
        var bits = 32 - System.Numerics.BitOperations.LeadingZeroCount((uint)n);
        uint r;
        do r = NextUInt32() >> (32 - bits);
        while (r >= (uint)n);
        return (int)r;
    }

    /// <summary><c>random.shuffle(items)</c>, in place.</summary>
    public void Shuffle<T>(IList<T> items)
    {
        for (var i = items.Count - 1; i > 0; i--)
        {
            var j = Below(i + 1);
            (items[i], items[j]) = (items[j], items[i]);
        }
    }
}
