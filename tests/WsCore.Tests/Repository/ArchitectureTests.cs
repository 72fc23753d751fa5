using System.Text.RegularExpressions;
using Mono.Cecil;
using Mono.Cecil.Cil;
using WsCore.Tests.Support;

namespace WsCore.Tests.Repository;

/// <summary>
/// The layering of the code, read from the compiled assemblies (every type a type names: its base, fields,
/// signatures, and the types and members its method bodies use): no namespace of WsCore or folder of wsctl depends on
/// another that depends back on it, and every dependency is one the README's "Architecture" table allows, so the
/// allowed directions are written once, there, and hold.
/// </summary>
public sealed partial class ArchitectureTests
{
    private static readonly Lazy<Dictionary<string, Dictionary<string, string>>> Graph = new(ReadGraph);

    /// <summary>
    /// Namespace → the namespaces it uses, each with one example ("Type → Used"). Only WsCore and wsctl namespaces;
    /// nested and compiler-generated types (closures, state machines) count for the type that declares them.
    /// </summary>
    private static Dictionary<string, Dictionary<string, string>> ReadGraph()
    {
        var graph = new Dictionary<string, Dictionary<string, string>>();
        foreach (var file in new[] { "WsCore.dll", "wsctl.dll" })
        {
            using var assembly = AssemblyDefinition.ReadAssembly(Path.Combine(AppContext.BaseDirectory, file));
            foreach (var type in assembly.MainModule.GetTypes())
            {
                var from = OwnNamespace(type);
                if (from is null)
                    continue;
                if (!graph.TryGetValue(from, out var uses))
                    graph[from] = uses = [];
                foreach (var used in Referenced(type))
                {
                    var to = OwnNamespace(used);
                    if (to is not null && to != from)
                        uses.TryAdd(to, $"{Outermost(type).Name} → {used.Name}");
                }
            }
        }
        return graph;
    }

    private static TypeReference Outermost(TypeReference type)
    {
        while (type.DeclaringType is { } outer)
            type = outer;
        return type;
    }

    private static string? OwnNamespace(TypeReference type)
    {
        type = Outermost(type.GetElementType());
        var ns = type.Namespace;
        return ns == "WsCore" || ns.StartsWith("WsCore.", StringComparison.Ordinal)
            || ns == "Wsctl" || ns.StartsWith("Wsctl.", StringComparison.Ordinal)
            ? ns
            : null;
    }

    private static IEnumerable<TypeReference> Referenced(TypeDefinition type)
    {
        if (type.BaseType is { } baseType)
            foreach (var t in Expand(baseType))
                yield return t;
        foreach (var i in type.Interfaces)
            foreach (var t in Expand(i.InterfaceType))
                yield return t;
        foreach (var field in type.Fields)
            foreach (var t in Expand(field.FieldType))
                yield return t;
        foreach (var method in type.Methods)
        {
            foreach (var t in Expand(method.ReturnType))
                yield return t;
            foreach (var parameter in method.Parameters)
                foreach (var t in Expand(parameter.ParameterType))
                    yield return t;
            if (!method.HasBody)
                continue;
            foreach (var variable in method.Body.Variables)
                foreach (var t in Expand(variable.VariableType))
                    yield return t;
            foreach (var instruction in method.Body.Instructions)
            {
                switch (instruction.Operand)
                {
                    case TypeReference operandType:
                        foreach (var t in Expand(operandType))
                            yield return t;
                        break;
                    case MethodReference called:
                        foreach (var t in Expand(called.DeclaringType))
                            yield return t;
                        foreach (var t in Expand(called.ReturnType))
                            yield return t;
                        if (called is GenericInstanceMethod generic)
                            foreach (var argument in generic.GenericArguments)
                                foreach (var t in Expand(argument))
                                    yield return t;
                        break;
                    case FieldReference field:
                        foreach (var t in Expand(field.DeclaringType))
                            yield return t;
                        break;
                }
            }
        }
    }

    // A type and the types inside it: the element of an array, the arguments of a generic instance.
    private static IEnumerable<TypeReference> Expand(TypeReference type)
    {
        yield return type;
        if (type is TypeSpecification specification)
            foreach (var t in Expand(specification.ElementType))
                yield return t;
        if (type is GenericInstanceType generic)
            foreach (var argument in generic.GenericArguments)
                foreach (var t in Expand(argument))
                    yield return t;
    }

    [Fact]
    public void Namespaces_HaveNoDependencyCycle()
    {
        var cycles = Cycles(Graph.Value.ToDictionary(kv => kv.Key, kv => (IEnumerable<string>)kv.Value.Keys));
        Assert.True(cycles.Count == 0, "dependency cycles:\n" + string.Join("\n", cycles.Select(cycle =>
            string.Join(" → ", cycle) + "\n  " + string.Join("\n  ", cycle.Zip(cycle.Skip(1).Append(cycle[0]))
                .Where(e => Graph.Value[e.First].ContainsKey(e.Second))
                .Select(e => $"{e.First} → {e.Second}: {Graph.Value[e.First][e.Second]}")))));
    }

    [Fact]
    public void EveryDependency_IsOneTheReadmeAllows_AndTheTableHasNoCycle()
    {
        var allowed = ReadmeTable();
        var missing = new List<string>();
        foreach (var (from, uses) in Graph.Value.OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            if (!allowed.TryGetValue(from, out var may))
            {
                missing.Add($"{from} is not in the table (it uses {string.Join(", ", uses.Keys.Order())})");
                continue;
            }
            foreach (var (to, example) in uses)
                if (!may.Contains(to))
                    missing.Add($"{from} → {to} ({example}) is not allowed by the table");
        }
        Assert.True(missing.Count == 0, "README.md, Architecture, \"may use\":\n" + string.Join("\n", missing) +
            "\n\nThe table as the code is now:\n" + TableAsItIs());
        Assert.Empty(Cycles(allowed.ToDictionary(kv => kv.Key, kv => (IEnumerable<string>)kv.Value)));
    }

    /// <summary>The README's table: "| `Namespace` | `Other`, `Another` |" rows between its markers.</summary>
    private static Dictionary<string, HashSet<string>> ReadmeTable()
    {
        var readme = File.ReadAllText(RepoPaths.Combine("README.md"));
        var start = readme.IndexOf("<!-- layering: begin -->", StringComparison.Ordinal);
        var end = readme.IndexOf("<!-- layering: end -->", StringComparison.Ordinal);
        Assert.True(start >= 0 && end > start, "README.md has no layering table between its markers");
        var table = new Dictionary<string, HashSet<string>>();
        foreach (Match row in TableRow().Matches(readme[start..end]))
            table[row.Groups[1].Value] = [.. Code().Matches(row.Groups[2].Value).Select(m => m.Groups[1].Value)];
        return table;
    }

    private static string TableAsItIs() => string.Join("\n", Graph.Value.OrderBy(kv => kv.Key, StringComparer.Ordinal)
        .Select(kv => $"| `{kv.Key}` | {string.Join(", ", kv.Value.Keys.Order(StringComparer.Ordinal)
            .Select(n => $"`{n}`"))} |"));

    // Tarjan's strongly connected components; each component of more than one namespace is a cycle.
    private static List<List<string>> Cycles(Dictionary<string, IEnumerable<string>> graph)
    {
        var index = 0;
        var indices = new Dictionary<string, int>();
        var low = new Dictionary<string, int>();
        var stack = new Stack<string>();
        var onStack = new HashSet<string>();
        var cycles = new List<List<string>>();
        void Visit(string node)
        {
            indices[node] = low[node] = index++;
            stack.Push(node);
            onStack.Add(node);
            foreach (var next in graph.GetValueOrDefault(node) ?? [])
            {
                if (!indices.ContainsKey(next))
                {
                    Visit(next);
                    low[node] = Math.Min(low[node], low[next]);
                }
                else if (onStack.Contains(next))
                    low[node] = Math.Min(low[node], indices[next]);
            }
            if (low[node] != indices[node])
                return;
            var component = new List<string>();
            string member;
            do
            {
                member = stack.Pop();
                onStack.Remove(member);
                component.Add(member);
            } while (member != node);
            if (component.Count > 1)
                cycles.Add(component);
        }
        foreach (var node in graph.Keys.Order(StringComparer.Ordinal))
            if (!indices.ContainsKey(node))
                Visit(node);
        return cycles;
    }

    [GeneratedRegex(@"^\| `([A-Za-z.]+)` \| (.*) \|\s*$", RegexOptions.Multiline)]
    private static partial Regex TableRow();

    [GeneratedRegex(@"`([A-Za-z.]+)`")]
    private static partial Regex Code();
}
