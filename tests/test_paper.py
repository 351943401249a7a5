"""Table 1 generated from the specs, against the paper's printed table."""

from vgg.teaching.paper import table1


def column(table, name):
    return [[entry.text for entry in stage[name]] for stage in table.stages]


def bold(table, name):
    return [entry.text for stage in table.stages for entry in stage[name] if entry.added]


def test_table1_columns_as_printed():
    table = table1()
    assert table.columns == ("A", "A-LRN", "B", "C", "D", "E")
    assert column(table, "A-LRN")[0] == ["conv3-64", "LRN"]
    assert column(table, "C")[2] == ["conv3-256", "conv3-256", "conv1-256"]
    assert column(table, "E")[4] == ["conv3-512"] * 4
    assert table.weight_layers == {"A": 11, "A-LRN": 11, "B": 13, "C": 16, "D": 16, "E": 19}


def test_bold_marks_the_layers_each_column_adds():
    table = table1()
    assert bold(table, "A") == []
    assert bold(table, "A-LRN") == ["LRN"]
    assert bold(table, "B") == ["conv3-64", "conv3-128"]
    assert bold(table, "C") == ["conv1-256", "conv1-512", "conv1-512"]
    assert bold(table, "D") == ["conv3-256", "conv3-512", "conv3-512"]
    assert bold(table, "E") == ["conv3-256", "conv3-512", "conv3-512"]
