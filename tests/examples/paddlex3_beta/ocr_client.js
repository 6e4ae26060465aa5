// Source: PaddleX 3.0-beta general OCR pipeline tutorial (English), section 3, "Multi-Language
// Service Invocation Examples" -> Node.js (originals/004_365c25cf5dce7b3f.txt, lines 650-684).
// It posts JSON.stringify(...) as a string body with no Content-Type, which axios declares as
// application/x-www-form-urlencoded. axios comes from tests/examples/node (npm ci; NODE_PATH).
// When tests/e2e/test_client_examples.py runs it, it changes only:
//   - the URL 'http://localhost:8080/ocr' -> the test server's http://127.0.0.1:<port>/ocr
//   - the file name './demo.jpg' -> the sample image scenes/s01_sign_zh_en.png
// Everything below the marker line is the published code, unchanged.
// --- the example as published starts below ---
const axios = require('axios');
const fs = require('fs');

const API_URL = 'http://localhost:8080/ocr'
const imagePath = './demo.jpg'
const outputImagePath = "./out.jpg";

let config = {
   method: 'POST',
   maxBodyLength: Infinity,
   url: API_URL,
   data: JSON.stringify({
    'image': encodeImageToBase64(imagePath)
  })
};

function encodeImageToBase64(filePath) {
  const bitmap = fs.readFileSync(filePath);
  return Buffer.from(bitmap).toString('base64');
}

axios.request(config)
.then((response) => {
    const result = response.data["result"];
    const imageBuffer = Buffer.from(result["image"], 'base64');
    fs.writeFile(outputImagePath, imageBuffer, (err) => {
      if (err) throw err;
      console.log(`Output image saved at ${outputImagePath}`);
    });
    console.log("\nDetected texts:");
    console.log(result["texts"]);
})
.catch((error) => {
  console.log(error);
});
