using System.Buffers.Binary;
using System.Globalization;
using System.Text;

namespace NotebookTrainer.Npz;

/// <summary>
/// numpy's .npy format: the magic <c>\x93NUMPY</c>, a version, a little-endian header length, a Python dict literal
/// <c>{'descr': '&lt;f4', 'fortran_order': False, 'shape': (4, 64, 64), }</c> padded with spaces and a newline so the
/// data starts on a 64-byte boundary, then the elements in C order. We write version 1.0 (what np.save writes for
/// these arrays) and read 1.0, 2.0 and 3.0.
/// </summary>
public static class NpyFormat
{
    static ReadOnlySpan<byte> Magic => [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y'];

    /// <summary>numpy's own default for np.load (max_header_size): a longer header is refused before it is parsed.</summary>
    public const int MaxHeaderBytes = 10_000;

    public static void Write(Stream stream, NpyArray array)
    {
        var shape = array.Shape.Count == 1
            ? $"({array.Shape[0].ToString(CultureInfo.InvariantCulture)},)"
            : $"({string.Join(", ", array.Shape.Select(d => d.ToString(CultureInfo.InvariantCulture)))})";
        var dict = $"{{'descr': '{NpyDTypes.Descr(array.DType)}', 'fortran_order': False, 'shape': {shape}, }}";
        var unpadded = Magic.Length + 2 + 2 + dict.Length + 1;
        var header = dict + new string(' ', (64 - unpadded % 64) % 64) + "\n";

        Span<byte> prefix = stackalloc byte[10];
        Magic.CopyTo(prefix);
        prefix[6] = 1;
        prefix[7] = 0;
        BinaryPrimitives.WriteUInt16LittleEndian(prefix[8..], (ushort)header.Length);
        stream.Write(prefix);
        stream.Write(Encoding.ASCII.GetBytes(header));
        stream.Write(array.Data);
    }

    /// <summary>The element type and shape; the stream is left at the first element. <paramref name="where"/> names the file and entry in errors.</summary>
    public static (NpyDType DType, long[] Shape) ReadHeader(Stream stream, string where)
    {
        Span<byte> prefix = stackalloc byte[8];
        ReadExactly(stream, prefix, where);
        if (!prefix[..6].SequenceEqual(Magic))
            throw new InvalidDataException($"{where}: not a .npy array (no \\x93NUMPY magic); re-save it with numpy.save/savez.");
        var major = prefix[6];
        if (major is not (1 or 2 or 3))
            throw new InvalidDataException($"{where}: .npy format version {major}.{prefix[7]} is not one numpy writes (1.0–3.0); re-save it with numpy.save/savez.");
        Span<byte> lengthBytes = stackalloc byte[major == 1 ? 2 : 4];
        ReadExactly(stream, lengthBytes, where);
        long length = major == 1 ? BinaryPrimitives.ReadUInt16LittleEndian(lengthBytes) : BinaryPrimitives.ReadUInt32LittleEndian(lengthBytes);
        if (length > MaxHeaderBytes)
            throw new InvalidDataException($"{where}: .npy header of {length:N0} bytes, more than numpy's own limit of {MaxHeaderBytes:N0}; refusing it.");
        var headerBytes = new byte[length];
        ReadExactly(stream, headerBytes, where);
        var header = major == 3 ? Encoding.UTF8.GetString(headerBytes) : Encoding.Latin1.GetString(headerBytes);
        return ParseHeader(header, where);
    }

    /// <summary>The whole array; refuses one whose data would exceed <paramref name="maxBytes"/> before allocating it.</summary>
    public static NpyArray Read(Stream stream, string where, long maxBytes)
    {
        var (dtype, shape) = ReadHeader(stream, where);
        var count = NpyArray.ElementCount(shape)!.Value;
        var size = count > long.MaxValue / NpyDTypes.ItemSize(dtype) ? long.MaxValue : count * NpyDTypes.ItemSize(dtype);
        if (size > maxBytes || size > Array.MaxLength)
            throw new InvalidDataException($"{where}: shape ({string.Join(", ", shape)}) needs {size:N0} bytes, more than the {maxBytes:N0} allowed; refusing it.");
        var data = new byte[size];
        ReadExactly(stream, data, where);
        return new NpyArray(dtype, shape, data);
    }

    static void ReadExactly(Stream stream, Span<byte> buffer, string where)
    {
        try { stream.ReadExactly(buffer); }
        catch (EndOfStreamException) { throw new InvalidDataException($"{where}: the .npy data ends early (truncated file); re-create it."); }
    }

    static (NpyDType, long[]) ParseHeader(string header, string where)
    {
        var fields = new HeaderReader(header, where).ReadDict();
        if (!fields.TryGetValue("descr", out var descrValue) || descrValue is not string descr)
            throw new InvalidDataException($"{where}: the .npy header has no 'descr' string.");
        var dtype = NpyDTypes.Parse(descr)
            ?? throw new InvalidDataException($"{where}: element type '{descr}' is not read here (little-endian bool, int8–int64, uint8, float16–float64 are); convert the array, e.g. arr.astype('<f4').");
        if (!fields.TryGetValue("fortran_order", out var order) || order is not bool fortran)
            throw new InvalidDataException($"{where}: the .npy header has no 'fortran_order' True/False.");
        if (fortran)
            throw new InvalidDataException($"{where}: the array is stored in Fortran order; re-save it with numpy.ascontiguousarray(arr).");
        if (!fields.TryGetValue("shape", out var shapeValue) || shapeValue is not long[] shape)
            throw new InvalidDataException($"{where}: the .npy header has no 'shape' tuple.");
        if (NpyArray.ElementCount(shape) is null)
            throw new InvalidDataException($"{where}: shape ({string.Join(", ", shape)}) is negative or too large.");
        return (dtype, shape);
    }

    /// <summary>The Python literal subset numpy writes: a dict of quoted keys to quoted strings, True/False and int tuples.</summary>
    sealed class HeaderReader(string text, string where)
    {
        int position;

        public Dictionary<string, object> ReadDict()
        {
            var fields = new Dictionary<string, object>(StringComparer.Ordinal);
            Expect('{');
            while (Peek() != '}')
            {
                var key = ReadString();
                Expect(':');
                if (!fields.TryAdd(key, ReadValue())) throw Bad($"key '{key}' appears twice");
                if (Peek() == ',') position++;
                else if (Peek() != '}') throw Bad("expected ',' or '}'");
            }
            position++;
            if (text[position..].Trim().Length != 0) throw Bad("text after the dict");
            return fields;
        }

        object ReadValue()
        {
            var c = Peek();
            if (c is '\'' or '"') return ReadString();
            if (c == '(') return ReadTuple();
            foreach (var (word, value) in new[] { ("True", true), ("False", false) })
                if (string.CompareOrdinal(text, position, word, 0, word.Length) == 0) { position += word.Length; return value; }
            throw Bad("expected a string, a tuple, True or False");
        }

        long[] ReadTuple()
        {
            Expect('(');
            var values = new List<long>();
            while (Peek() != ')')
            {
                if (values.Count >= 64) throw Bad("more than 64 dimensions");
                var start = position;
                while (position < text.Length && char.IsAsciiDigit(text[position])) position++;
                if (position == start || !long.TryParse(text.AsSpan(start, position - start), NumberStyles.None, CultureInfo.InvariantCulture, out var value))
                    throw Bad("expected a dimension");
                // Python 2 numpy wrote dimensions as longs: (4L, 64L).
                if (position < text.Length && text[position] == 'L') position++;
                values.Add(value);
                if (Peek() == ',') position++;
                else if (Peek() != ')') throw Bad("expected ',' or ')'");
            }
            position++;
            return values.ToArray();
        }

        string ReadString()
        {
            var quote = Peek();
            if (quote is not ('\'' or '"')) throw Bad("expected a quoted key");
            var end = text.IndexOf(quote, ++position);
            if (end < 0) throw Bad("unterminated string");
            var value = text[position..end];
            position = end + 1;
            return value;
        }

        char Peek()
        {
            while (position < text.Length && char.IsWhiteSpace(text[position])) position++;
            return position < text.Length ? text[position] : '\0';
        }

        void Expect(char c)
        {
            if (Peek() != c) throw Bad($"expected '{c}'");
            position++;
        }

        InvalidDataException Bad(string what) =>
            new($"{where}: the .npy header is not a dict numpy writes ({what} at character {position}); re-save it with numpy.save/savez.");
    }
}
