// Source: README of the FastAPI PP-OCR service (the seed service), "使用示例" -> "JavaScript示例"
// (originals/000_00403ab49c19dccb.txt, lines 290-319). Browser code: the test loads it with a
// <script> tag into a page served from another loopback origin, puts the sample into the page's
// <input type=file> and calls performOCR(input.files[0]) in headless Chromium.
// When tests/e2e/test_client_examples.py runs it, it changes only:
//   - the URL 'http://localhost:7861/v1/ocr' -> the test server's http://127.0.0.1:<port>/v1/ocr
// Everything below the marker line is the published code, unchanged.
// --- the example as published starts below ---
// 使用fetch API
async function performOCR(imageFile) {
    const base64 = await fileToBase64(imageFile);

    const response = await fetch('http://localhost:7861/v1/ocr', {
        method: 'POST',
        headers: {
            'Content-Type': 'application/json',
        },
        body: JSON.stringify({
            image: base64,
            use_det: true,
            use_cls: true,
            use_rec: true,
            text_score: 0.5
        })
    });

    const result = await response.json();
    return result;
}

function fileToBase64(file) {
    return new Promise((resolve, reject) => {
        const reader = new FileReader();
        reader.readAsDataURL(file);
        reader.onload = () => resolve(reader.result.split(',')[1]);
        reader.onerror = error => reject(error);
    });
}
