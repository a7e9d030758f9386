using System.Text;
using System.Text.Json;
using Tomlyn.Parsing;
using Tomlyn.Syntax;

namespace NotebookTrainer.Configuration;

/// <summary>A parsed config value that remembers its 1-based source line, so errors can point at it.</summary>
public abstract record ConfigNode(int Line);

public sealed record ConfigScalar(int Line, object Value) : ConfigNode(Line)
{
    public string TypeName => Value switch
    {
        bool => "boolean",
        long => "integer",
        double => "float",
        string => "string",
        _ => Value.GetType().Name,
    };
}

public sealed record ConfigArray(int Line, List<ConfigNode> Items) : ConfigNode(Line);

/// <summary>A table; entries keep file order and each key's own line.</summary>
public sealed record ConfigTable(int Line, List<ConfigEntry> Entries) : ConfigNode(Line)
{
    public ConfigEntry? Find(string key) => Entries.FirstOrDefault(e => e.Key == key);
}

public sealed record ConfigEntry(string Key, int Line, ConfigNode Value);

/// <summary>
/// A dataset or training config that cannot be used: not valid TOML/JSON, or keys with wrong names, types or values.
/// <see cref="Problems"/> lists every error found (with file, line and key), not only the first.
/// </summary>
public sealed class ConfigException(IReadOnlyList<DatasetProblem> problems)
    : Exception(string.Join(Environment.NewLine, problems))
{
    public IReadOnlyList<DatasetProblem> Problems { get; } = problems;
}

/// <summary>
/// Turns TOML (via Tomlyn's syntax tree, which keeps positions) or JSON text into a <see cref="ConfigTable"/>: the one
/// parser of dataset configs and training configs.
/// </summary>
public static class ConfigTree
{
    /// <summary>
    /// Parses TOML into a table. Tomlyn's own key validation reports false "already defined" errors on files with many
    /// keys (hash collisions), so duplicates are found here instead: a key defined twice in one table, or a [table]
    /// header given twice, is an error naming both lines. Nesting deeper than <see cref="IO.InputLimits.MaxConfigDepth"/>
    /// is refused.
    /// </summary>
    public static ConfigTable ParseToml(string text, string file)
    {
        DocumentSyntax document;
        try { document = SyntaxParser.Parse(text, file, validate: false); }
        catch (Tomlyn.TomlException e) { throw Fail(file, 1, $"TOML: {IO.Printable.Escape(e.Message)}"); }
        if (document.HasErrors)
        {
            var lines = text.Split('\n');
            throw new ConfigException(document.Diagnostics
                .Where(d => d.Kind == DiagnosticMessageKind.Error)
                .Select(d => TomlSyntaxProblem(file, d, lines))
                .DistinctBy(p => p.Line) // one message per line: a Windows path yields one per backslash
                .ToList());
        }
        return new TomlTree(file).Build(document);
    }

    sealed class TomlTree(string file)
    {
        readonly Dictionary<ConfigTable, Dictionary<string, ConfigEntry>> keys = new(ReferenceEqualityComparer.Instance);
        readonly Dictionary<string, int> headers = new(StringComparer.Ordinal);
        readonly int maxDepth = IO.InputLimits.Current.MaxConfigDepth;

        public ConfigTable Build(DocumentSyntax document)
        {
            var root = new ConfigTable(1, []);
            foreach (var kv in document.KeyValues) AddKeyValue(root, kv, 0);
            foreach (var table in document.Tables)
            {
                var path = KeyParts(table.Name!);
                var line = LineOf(table);
                var name = string.Join('.', path);
                if (path.Length > maxDepth) throw Fail(file, line, $"[{Shown(name)}] is nested deeper than {maxDepth} tables ({IO.InputLimits.VariableFor(nameof(IO.InputLimits.MaxConfigDepth))}).");
                var parent = Navigate(root, path[..^1], line);
                var last = path[^1];
                ConfigTable target;
                if (table is TableArraySyntax)
                {
                    var entry = Find(parent, last);
                    if (entry == null) entry = Add(parent, new ConfigEntry(last, line, new ConfigArray(line, [])));
                    if (entry.Value is not ConfigArray array) throw Fail(file, line, $"[[{Shown(name)}]] redefines a key that is not an array of tables.");
                    target = new ConfigTable(line, []);
                    array.Items.Add(target);
                }
                else
                {
                    if (headers.TryGetValue(name, out var first)) throw Fail(file, line, $"table [{Shown(name)}] is already defined on line {first}; merge the two into one.");
                    headers[name] = line;
                    target = Navigate(root, path, line);
                }
                foreach (var item in table.Items) AddKeyValue(target, item, path.Length);
            }
            return root;
        }

        ConfigEntry? Find(ConfigTable table, string key) =>
            keys.TryGetValue(table, out var index) && index.TryGetValue(key, out var entry) ? entry : null;

        ConfigEntry Add(ConfigTable table, ConfigEntry entry)
        {
            if (!keys.TryGetValue(table, out var index)) keys[table] = index = new Dictionary<string, ConfigEntry>(StringComparer.Ordinal);
            if (!index.TryAdd(entry.Key, entry))
                throw Fail(file, entry.Line, $"the key '{Shown(entry.Key)}' is already defined on line {index[entry.Key].Line}; keep one of them.");
            table.Entries.Add(entry);
            return entry;
        }

        /// <summary>Walks (creating) nested tables; an array of tables continues in its last element, as TOML defines.</summary>
        ConfigTable Navigate(ConfigTable from, IEnumerable<string> path, int line)
        {
            var current = from;
            foreach (var part in path)
            {
                var entry = Find(current, part);
                if (entry == null)
                {
                    var created = new ConfigTable(line, []);
                    Add(current, new ConfigEntry(part, line, created));
                    current = created;
                }
                else current = entry.Value switch
                {
                    ConfigTable t => t,
                    ConfigArray { Items: [.., ConfigTable last] } => last,
                    _ => throw Fail(file, line, $"'{Shown(part)}' is already a value (line {entry.Line}), it cannot also be a table."),
                };
            }
            return current;
        }

        void AddKeyValue(ConfigTable table, KeyValueSyntax kv, int depth)
        {
            var parts = KeyParts(kv.Key!);
            var line = LineOf(kv);
            if (depth + parts.Length > maxDepth) throw Fail(file, line, $"'{Shown(string.Join('.', parts))}' is nested deeper than {maxDepth} tables.");
            var target = Navigate(table, parts[..^1], line);
            Add(target, new ConfigEntry(parts[^1], line, Convert(kv.Value!, depth + parts.Length)));
        }

        ConfigNode Convert(ValueSyntax value, int depth)
        {
            var line = LineOf(value);
            if (depth > maxDepth) throw Fail(file, line, $"values nested deeper than {maxDepth} arrays or tables ({IO.InputLimits.VariableFor(nameof(IO.InputLimits.MaxConfigDepth))}).");
            switch (value)
            {
                case StringValueSyntax s: return new ConfigScalar(line, s.Value!);
                case IntegerValueSyntax i: return new ConfigScalar(line, i.Value);
                case FloatValueSyntax f: return new ConfigScalar(line, f.Value);
                case BooleanValueSyntax b: return new ConfigScalar(line, b.Value);
                case DateTimeValueSyntax d: return new ConfigScalar(line, d.Token!.Text!);
                case ArraySyntax a:
                    return new ConfigArray(line, a.Items.Select(item => Convert(item.Value!, depth + 1)).ToList());
                case InlineTableSyntax t:
                    var table = new ConfigTable(line, []);
                    foreach (var item in t.Items) AddKeyValue(table, item.KeyValue!, depth + 1);
                    return table;
                default: throw Fail(file, line, $"unsupported TOML value '{Shown(value.ToString() ?? "")}'.");
            }
        }
    }

    static string Shown(string text) => IO.Printable.Escape(text);

    static DatasetProblem TomlSyntaxProblem(string file, DiagnosticMessage d, string[] lines)
    {
        var line = d.Span.Start.Line + 1;
        var source = line - 1 < lines.Length ? lines[line - 1] : "";
        var message = $"TOML syntax: {IO.Printable.Escape(d.Message)}";
        if (d.Message.Contains("escape", StringComparison.OrdinalIgnoreCase) && source.Contains('\\'))
            message += ". A Windows path in double quotes reads '\\' as an escape: write it in single quotes " +
                       "(image_dir = 'C:\\data\\images', a TOML literal string), or use forward slashes or doubled backslashes.";
        return DatasetProblem.Error(file, message, line);
    }

    static ConfigException Fail(string file, int line, string message) =>
        new([DatasetProblem.Error(file, message, line)]);

    static int LineOf(SyntaxNode node) => node.Span.Start.Line + 1;

    static string[] KeyParts(KeySyntax key)
    {
        var parts = new List<string> { KeyText(key.Key!) };
        if (key.DotKeys != null) parts.AddRange(key.DotKeys.Select(d => KeyText(d.Key!)));
        return parts.ToArray();
    }

    static string KeyText(BareKeyOrStringValueSyntax key) => key switch
    {
        BareKeySyntax bare => bare.Key!.Text!,
        StringValueSyntax quoted => quoted.Value!,
        _ => key.ToString()!,
    };

    public static ConfigTable ParseJson(string text, string file)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        var lineStarts = new List<int> { 0 };
        for (var i = 0; i < bytes.Length; i++) if (bytes[i] == '\n') lineStarts.Add(i + 1);
        int LineAt(long offset)
        {
            var index = lineStarts.BinarySearch((int)offset);
            return (index >= 0 ? index : ~index - 1) + 1;
        }

        var reader = new Utf8JsonReader(bytes, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
        try
        {
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
                throw Fail(file, 1, "a dataset config JSON file must be an object with \"general\" and \"datasets\".");
            return (ConfigTable)ReadJsonValue(ref reader, LineAt);
        }
        catch (JsonException e)
        {
            throw Fail(file, (int)(e.LineNumber ?? 0) + 1, $"JSON syntax: {IO.Printable.Escape(e.Message)}");
        }
        catch (InvalidOperationException e)
        {
            // A string is decoded only when read: a lone UTF-16 surrogate escape (\ud800) fails there.
            throw Fail(file, 1, $"JSON: a string cannot be decoded ({e.Message}).");
        }
    }

    static ConfigNode ReadJsonValue(ref Utf8JsonReader reader, Func<long, int> lineAt)
    {
        var line = lineAt(reader.TokenStartIndex);
        switch (reader.TokenType)
        {
            case JsonTokenType.StartObject:
                var table = new ConfigTable(line, []);
                while (reader.Read() && reader.TokenType != JsonTokenType.EndObject)
                {
                    var key = reader.GetString()!;
                    var keyLine = lineAt(reader.TokenStartIndex);
                    reader.Read();
                    if (reader.TokenType == JsonTokenType.Null) continue; // null = not set, as in kohya's fallback chain
                    table.Entries.Add(new ConfigEntry(key, keyLine, ReadJsonValue(ref reader, lineAt)));
                }
                return table;
            case JsonTokenType.StartArray:
                var array = new ConfigArray(line, []);
                while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
                    array.Items.Add(ReadJsonValue(ref reader, lineAt));
                return array;
            case JsonTokenType.String: return new ConfigScalar(line, reader.GetString()!);
            case JsonTokenType.True: return new ConfigScalar(line, true);
            case JsonTokenType.False: return new ConfigScalar(line, false);
            case JsonTokenType.Number:
                return reader.TryGetInt64(out var l) ? new ConfigScalar(line, l) : new ConfigScalar(line, reader.GetDouble());
            default: throw new JsonException($"unexpected {reader.TokenType}", null, line - 1, null);
        }
    }
}
