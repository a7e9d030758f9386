using System.Reflection;
using System.Reflection.Emit;

namespace NotebookTrainer.Tests.Build;

/// <summary>
/// Which of the library's folders (the namespace under <c>NotebookTrainer.</c>) each folder's compiled types use: in
/// base types, interfaces, fields, properties, signatures, locals and every type, method and field the IL names —
/// lambdas and iterators included, since the compiler nests them in the type that wrote them.
/// </summary>
public static class LibraryDependencies
{
    static readonly Dictionary<short, OpCode> OpCodesByValue = typeof(OpCodes).GetFields(BindingFlags.Public | BindingFlags.Static)
        .Select(f => (OpCode)f.GetValue(null)!).ToDictionary(o => o.Value);

    const BindingFlags Declared = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly;

    /// <summary>Folder → the other folders it uses, each with one example "Type → Type" reference.</summary>
    public static IReadOnlyDictionary<string, IReadOnlyDictionary<string, string>> Of(Assembly library)
    {
        var edges = new Dictionary<string, Dictionary<string, string>>();
        foreach (var type in library.GetTypes())
        {
            if (FolderOf(type) is not { } from) continue;
            var uses = edges.TryGetValue(from, out var u) ? u : edges[from] = [];
            foreach (var used in UsedBy(type))
                if (used.Assembly == library && FolderOf(used) is { } to && to != from)
                    uses.TryAdd(to, $"{Outermost(type).FullName} → {Outermost(used).FullName}");
        }
        return edges.ToDictionary(e => e.Key, e => (IReadOnlyDictionary<string, string>)e.Value);
    }

    /// <summary>The first namespace segment under NotebookTrainer (its folder), or null for types outside it.</summary>
    public static string? FolderOf(Type type)
    {
        var ns = Outermost(type).Namespace;
        if (ns is null || !ns.StartsWith("NotebookTrainer.", StringComparison.Ordinal)) return null;
        var rest = ns["NotebookTrainer.".Length..];
        return rest.Split('.')[0];
    }

    static Type Outermost(Type type)
    {
        while (type.DeclaringType is { } outer) type = outer;
        return type;
    }

    static IEnumerable<Type> UsedBy(Type type)
    {
        var found = new List<Type>();
        void Add(Type? t)
        {
            if (t is null) return;
            if (t.HasElementType) { Add(t.GetElementType()); return; }
            if (t.IsGenericType && !t.IsGenericTypeDefinition)
                foreach (var argument in t.GetGenericArguments()) Add(argument);
            if (!t.IsGenericParameter) found.Add(t.IsGenericType ? t.GetGenericTypeDefinition() : t);
        }
        Add(type.BaseType);
        foreach (var i in type.GetInterfaces()) Add(i);
        foreach (var f in type.GetFields(Declared)) Add(f.FieldType);
        foreach (var p in type.GetProperties(Declared)) Add(p.PropertyType);
        foreach (var method in type.GetMethods(Declared).Cast<MethodBase>().Concat(type.GetConstructors(Declared)))
        {
            if (method is MethodInfo info) Add(info.ReturnType);
            foreach (var p in method.GetParameters()) Add(p.ParameterType);
            var body = method.GetMethodBody();
            if (body is null) continue;
            foreach (var local in body.LocalVariables) Add(local.LocalType);
            foreach (var member in TokensIn(method, body.GetILAsByteArray() ?? []))
                Add(member as Type ?? member.DeclaringType);
        }
        return found;
    }

    /// <summary>The types, methods and fields an IL body names (the operands of call, newobj, ldfld, box, ldtoken, …).</summary>
    static IEnumerable<MemberInfo> TokensIn(MethodBase method, byte[] il)
    {
        var module = method.Module;
        var typeArguments = method.DeclaringType is { IsGenericType: true } d ? d.GetGenericArguments() : null;
        var methodArguments = method.IsGenericMethod ? method.GetGenericArguments() : null;
        for (var i = 0; i < il.Length;)
        {
            short value = il[i++];
            if (value == 0xFE) value = unchecked((short)(0xFE00 | il[i++]));
            var op = OpCodesByValue[value];
            switch (op.OperandType)
            {
                case OperandType.InlineNone:
                    break;
                case OperandType.ShortInlineBrTarget or OperandType.ShortInlineI or OperandType.ShortInlineVar:
                    i += 1;
                    break;
                case OperandType.InlineVar:
                    i += 2;
                    break;
                case OperandType.InlineI8 or OperandType.InlineR:
                    i += 8;
                    break;
                case OperandType.InlineSwitch:
                    i += 4 + 4 * BitConverter.ToInt32(il, i);
                    break;
                case OperandType.InlineTok or OperandType.InlineType or OperandType.InlineMethod or OperandType.InlineField:
                    var token = BitConverter.ToInt32(il, i);
                    i += 4;
                    MemberInfo? member = null;
                    try { member = module.ResolveMember(token, typeArguments, methodArguments); }
                    catch (ArgumentException) { }
                    if (member is not null) yield return member;
                    break;
                default:
                    i += 4;
                    break;
            }
        }
    }
}
