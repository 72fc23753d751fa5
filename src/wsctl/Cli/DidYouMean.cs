namespace Wsctl.Cli;

/// <summary>
/// The nearest spelling of a mistyped verb or option ("serv" → "serve", "--wiat" → "--wait"), as git and cargo
/// offer: the candidates within a small edit distance (a third of the word, at least one edit; a swap of two
/// neighbouring letters counts as one), or those the word starts. Nothing when no candidate is near enough.
/// </summary>
public static class DidYouMean
{
    public static IReadOnlyList<string> Suggest(string typed, IEnumerable<string> candidates)
    {
        var word = typed.TrimStart('-');
        if (word.Length == 0)
            return [];
        var limit = Math.Max(1, word.Length / 3);
        return candidates
            .Select(c => (Candidate: c, Distance: Distance(word, c.TrimStart('-'))))
            .Where(c => c.Distance <= limit
                || (word.Length >= 3 && c.Candidate.TrimStart('-').StartsWith(word, StringComparison.Ordinal)))
            .Where(c => c.Candidate.StartsWith('-') == typed.StartsWith('-'))
            .OrderBy(c => c.Distance)
            .ThenBy(c => c.Candidate, StringComparer.Ordinal)
            .Select(c => c.Candidate)
            .Distinct()
            .Take(3)
            .ToList();
    }

    // Optimal string alignment distance: insertions, deletions, substitutions, and swaps of neighbours.
    private static int Distance(string a, string b)
    {
        var d = new int[a.Length + 1, b.Length + 1];
        for (var i = 0; i <= a.Length; i++)
            d[i, 0] = i;
        for (var j = 0; j <= b.Length; j++)
            d[0, j] = j;
        for (var i = 1; i <= a.Length; i++)
        {
            for (var j = 1; j <= b.Length; j++)
            {
                var cost = a[i - 1] == b[j - 1] ? 0 : 1;
                d[i, j] = Math.Min(Math.Min(d[i - 1, j] + 1, d[i, j - 1] + 1), d[i - 1, j - 1] + cost);
                if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
                    d[i, j] = Math.Min(d[i, j], d[i - 2, j - 2] + 1);
            }
        }
        return d[a.Length, b.Length];
    }
}
