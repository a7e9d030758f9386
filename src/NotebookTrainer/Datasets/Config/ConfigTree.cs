using System.Text;
using System.Text.Json;
using Tomlyn.Parsing;
using Tomlyn.Syntax;

namespace NotebookTrainer.Datasets.Config;

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

/// <summary>Thrown when the file is not valid TOML/JSON at all; carries the problems with their lines.</summary>
public sealed class DatasetConfigException(IReadOnlyList<DatasetProblem> problems)
    : Exception(string.Join(Environment.NewLine, problems))
{
    public IReadOnlyList<DatasetProblem> Problems { get; } = problems;
}

/// <summary>Turns TOML (via Tomlyn's syntax tree, which keeps positions) or JSON text into a <see cref="ConfigTable"/>.</summary>
public static class ConfigTree
{
    public static ConfigTable ParseToml(string text, string file)
    {
        var document = SyntaxParser.Parse(text, file, validate: true);
        if (document.HasErrors)
        {
            var lines = text.Split('\n');
            throw new DatasetConfigException(document.Diagnostics
                .Where(d => d.Kind == DiagnosticMessageKind.Error)
                .Select(d => TomlSyntaxProblem(file, d, lines))
                .DistinctBy(p => p.Line) // one message per line: a Windows path yields one per backslash
                .ToList());
        }
        var root = new ConfigTable(1, []);
        foreach (var kv in document.KeyValues) AddKeyValue(root, kv, file);
        foreach (var table in document.Tables)
        {
            var path = KeyParts(table.Name!);
            var line = LineOf(table);
            var parent = Navigate(root, path[..^1], line, file);
            var last = path[^1];
            ConfigTable target;
            if (table is TableArraySyntax)
            {
                var entry = parent.Find(last);
                if (entry == null) { entry = new ConfigEntry(last, line, new ConfigArray(line, [])); parent.Entries.Add(entry); }
                if (entry.Value is not ConfigArray array) throw Fail(file, line, $"[[{string.Join('.', path)}]] redefines a key that is not an array of tables.");
                target = new ConfigTable(line, []);
                array.Items.Add(target);
            }
            else target = Navigate(root, path, line, file);
            foreach (var item in table.Items) AddKeyValue(target, item, file);
        }
        return root;
    }

    static DatasetProblem TomlSyntaxProblem(string file, DiagnosticMessage d, string[] lines)
    {
        var line = d.Span.Start.Line + 1;
        var source = line - 1 < lines.Length ? lines[line - 1] : "";
        var message = $"TOML syntax: {d.Message}";
        if (d.Message.Contains("escape", StringComparison.OrdinalIgnoreCase) && source.Contains('\\'))
            message += ". A Windows path in double quotes reads '\\' as an escape: write it in single quotes " +
                       "(image_dir = 'C:\\data\\images', a TOML literal string), or use forward slashes or doubled backslashes.";
        return DatasetProblem.Error(file, message, line);
    }

    static DatasetConfigException Fail(string file, int line, string message) =>
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

    /// <summary>Walks (creating) nested tables; an array of tables continues in its last element, as TOML defines.</summary>
    static ConfigTable Navigate(ConfigTable from, IEnumerable<string> path, int line, string file)
    {
        var current = from;
        foreach (var part in path)
        {
            var entry = current.Find(part);
            if (entry == null)
            {
                var created = new ConfigTable(line, []);
                current.Entries.Add(new ConfigEntry(part, line, created));
                current = created;
            }
            else current = entry.Value switch
            {
                ConfigTable t => t,
                ConfigArray { Items: [.., ConfigTable last] } => last,
                _ => throw Fail(file, line, $"'{part}' is already a value (line {entry.Line}), it cannot also be a table."),
            };
        }
        return current;
    }

    static void AddKeyValue(ConfigTable table, KeyValueSyntax kv, string file)
    {
        var parts = KeyParts(kv.Key!);
        var line = LineOf(kv);
        var target = Navigate(table, parts[..^1], line, file);
        target.Entries.Add(new ConfigEntry(parts[^1], line, Convert(kv.Value!, file)));
    }

    static ConfigNode Convert(ValueSyntax value, string file)
    {
        var line = LineOf(value);
        switch (value)
        {
            case StringValueSyntax s: return new ConfigScalar(line, s.Value!);
            case IntegerValueSyntax i: return new ConfigScalar(line, i.Value);
            case FloatValueSyntax f: return new ConfigScalar(line, f.Value);
            case BooleanValueSyntax b: return new ConfigScalar(line, b.Value);
            case DateTimeValueSyntax d: return new ConfigScalar(line, d.Token!.Text!);
            case ArraySyntax a:
                return new ConfigArray(line, a.Items.Select(item => Convert(item.Value!, file)).ToList());
            case InlineTableSyntax t:
                var table = new ConfigTable(line, []);
                foreach (var item in t.Items) AddKeyValue(table, item.KeyValue!, file);
                return table;
            default: throw Fail(file, line, $"unsupported TOML value '{value}'.");
        }
    }

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
            throw Fail(file, (int)(e.LineNumber ?? 0) + 1, $"JSON syntax: {e.Message}");
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
